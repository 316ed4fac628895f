package astroapi

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestPageDecodeOnce checks that the one-pass decode of a list page gives
// what the two-pass decode gives, and leaves to it every body it would
// treat otherwise: a key in another case, a key given twice, trailing
// data, a body that is not an object, a totalCount of another type.
func TestPageDecodeOnce(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		once       bool // decodeOnce accepts it
	}{
		{"page", `{"tokens":[{"id":"a","roles":[]},{"id":"b"}],"totalCount":2,"offset":0,"limit":1000}`, true},
		{"no totalCount", `{"tokens":[{"id":"a"}]}`, true},
		{"null totalCount", `{"tokens":[{"id":"a"}],"totalCount":null}`, true},
		{"null items", `{"tokens":null,"totalCount":0}`, true},
		{"items twice", `{"tokens":[{"id":"a","name":"x"},{"id":"b"}],"tokens":[{"id":"c"}]}`, true},
		{"spaces", " \t\r\n{ \"tokens\" : [ {\"id\":\"a\"} ] , \"totalCount\" : 1 }\n ", true},
		{"brackets and quotes in strings", `{"tokens":[{"id":"a\"]}","name":"{[\\"}],"offset":"}"}`, true},
		{"escaped key", `{"tok\u0065ns":[{"id":"a"}]}`, false},
		{"key not ASCII", `{"tokens":[],"tÃ©":1}`, false},
		{"empty object", `{}`, false},
		{"bad literal", `{"tokens":[],"totalCount":1x}`, false},
		{"bad field", `{"tokens":[],"offset":[}`, false},
		{"deep field", `{"tokens":[],"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false},
		{"over json's depth", `{"tokens":[{"id":"a","x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}]}`, false},
		{"key in another case", `{"Tokens":[{"id":"a"}],"totalCount":1}`, false},
		{"no items", `{"totalCount":1}`, false},
		{"trailing data", `{"tokens":[]} {}`, false},
		{"trailing garbage", `{"tokens":[]}x`, false},
		{"array", `[{"id":"a"}]`, false},
		{"null", `null`, false},
		{"string totalCount", `{"tokens":[],"totalCount":"1"}`, false},
		{"wrong item type", `{"tokens":[1]}`, false},
		{"truncated", `{"tokens":[{"id":"a"}`, false},
		{"trailing comma", `{"tokens":[],}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, withEnv := range []bool{false, true} {
				once := &page[Token]{key: "tokens", withEnv: withEnv}
				once.reset()
				errOnce := once.decodeOnce([]byte(tc.body))
				if (errOnce == nil) != tc.once {
					t.Fatalf("decodeOnce: %v, want accepted %t", errOnce, tc.once)
				}
				twice := &page[Token]{key: "tokens", withEnv: withEnv}
				twice.reset()
				errTwice := twice.decodeTwice([]byte(tc.body))
				got := &page[Token]{key: "tokens", withEnv: withEnv}
				errGot := got.decodeBody([]byte(tc.body))
				if fmt.Sprint(errGot) != fmt.Sprint(errTwice) {
					t.Errorf("decodeBody: %v, want %v", errGot, errTwice)
				}
				if tc.once && errTwice != nil {
					t.Fatalf("decodeOnce accepts what decodeTwice refuses: %v", errTwice)
				}
				opt := cmp.Comparer(func(a, b error) bool { return fmt.Sprint(a) == fmt.Sprint(b) })
				if diff := cmp.Diff(twice, got, cmp.AllowUnexported(page[Token]{}), opt); diff != "" {
					t.Errorf("decodeBody (-decodeTwice +decodeBody):\n%s", diff)
				}
				if tc.once {
					if diff := cmp.Diff(twice, once, cmp.AllowUnexported(page[Token]{}), opt); diff != "" {
						t.Errorf("(-decodeTwice +decodeOnce):\n%s", diff)
					}
				}
			}
		})
	}
}

// FuzzPageDecode checks that whatever decodeOnce accepts, decodeTwice
// accepts too, with the same page.
func FuzzPageDecode(f *testing.F) {
	for _, s := range []string{
		`{"tokens":[{"id":"a","roles":[{"entityId":"w","entityType":"WORKSPACE","role":"WORKSPACE_MEMBER"}]}],"totalCount":1,"offset":0,"limit":1000}`,
		`{"tokens":null}`, `{"tokens":[],"tokens":[{"id":"b"}]}`, `{"Tokens":[]}`, `{"tokens":[]} x`, `{"tokens":[{"id":"a\"]}"}],"x":[1,{"y":null}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, withEnv := range []bool{false, true} {
			once := &page[Token]{key: "tokens", withEnv: withEnv}
			once.reset()
			if once.decodeOnce(body) != nil {
				continue
			}
			twice := &page[Token]{key: "tokens", withEnv: withEnv}
			twice.reset()
			if err := twice.decodeTwice(body); err != nil || twice.missing || twice.itemsErr != nil || twice.totalErr != nil {
				t.Fatalf("decodeOnce accepts %q, decodeTwice: %v %+v", body, err, twice)
			}
			if diff := cmp.Diff(twice, once, cmp.AllowUnexported(page[Token]{})); diff != "" {
				t.Fatalf("%q (-decodeTwice +decodeOnce):\n%s", body, diff)
			}
		}
	})
}

// TestPageItemsDecodeLikeEncodingJSON checks the items of the one pass,
// which another decoder reads, against encoding/json's reading of the
// same page (decodeTwice), where the two decoders could part: timestamps
// (also their zones), keys that fold to a field's name, invalid UTF-8 and
// escapes, numbers, nulls and fields given twice. Whatever the one pass
// accepts, it must read as encoding/json does; what it refuses is left to
// decodeTwice.
func TestPageItemsDecodeLikeEncodingJSON(t *testing.T) {
	items := []string{
		`{"id":"a","createdAt":"2021-03-25T21:36:12Z","updatedAt":"2021-03-25T21:36:12.123456789Z"}`,
		`{"id":"a","createdAt":"2021-03-25T21:36:12.1234567891Z"}`,
		`{"id":"a","createdAt":"2021-03-25T21:36:12+01:00"}`,
		`{"id":"a","createdAt":"2021-03-25T21:36:12+00:00"}`,
		`{"id":"a","createdAt":"2021-03-25T21:36:12-00:00"}`,
		`{"id":"a","createdAt":"2021-03-25T21:36:12+24:00"}`,
		`{"id":"a","createdAt":"2021-03-25T1:36:12Z"}`,
		`{"id":"a","createdAt":"2021-03-25T21:36:12,5Z"}`,
		`{"id":"a","createdAt":"2021-03-25t21:36:12z"}`,
		`{"id":"a","createdAt":"2021-03-25T21:36:60Z"}`,
		`{"id":"a","createdAt":"2021-02-29T21:36:12Z"}`,
		`{"id":"a","createdAt":"2020-02-29T21:36:12Z"}`,
		`{"id":"a","createdAt":"2021-04-31T21:36:12Z"}`,
		`{"id":"a","createdAt":"0000-01-01T00:00:00Z"}`,
		`{"id":"a","createdAt":"2021-03-25T21:36:12.Z"}`,
		`{"id":"a","createdAt":"2021-03-25 21:36:12Z"}`,
		`{"id":"a","createdAt":"2021-03-25T21:36:12\u005a"}`,
		`{"id":"a","createdAt":null,"endAt":null,"lastUsedAt":"2021-03-25T21:36:12Z"}`,
		`{"id":"a","createdAt":""}`,
		`{"id":"a","createdAt":1}`,
		`{"id":"a","ſcope":"x","ID":"b","NAME":"n"}`,
		"{\"id\":\"a\xff\",\"name\":\"\xc3\"}",
		`{"id":"\ud800","name":"\ud83d\ude00 \u00e9 \u0000"}`,
		`{"id":"a","expiryPeriodInDays":1.0}`,
		`{"id":"a","expiryPeriodInDays":-0}`,
		`{"id":"a","expiryPeriodInDays":1e2}`,
		`{"id":"a","expiryPeriodInDays":99999999999999999999}`,
		`{"id":"a","roles":[{"role":"x"},{"role":"y"}],"roles":[{"entityId":"z"}]}`,
		`{"id":"a","roles":[{"role":"x"}],"roles":null}`,
		`{"id":"a","createdBy":{"id":"u","username":"v"},"createdBy":{"fullName":"w"}}`,
		`{"id":"a","name":"x","name":null}`,
		`{"id":"a","unknown":{"x":[1,"y",null,true]}}`,
		`{"id":1}`,
		`null`,
	}
	sameTime := cmp.Comparer(func(a, b time.Time) bool {
		_, oa := a.Zone()
		_, ob := b.Zone()
		return a.Equal(b) && oa == ob && a.Location().String() == b.Location().String()
	})
	accepted := 0
	for _, item := range items {
		body := []byte(`{"tokens":[` + item + `],"totalCount":1}`)
		once := &page[Token]{key: "tokens"}
		once.reset()
		if once.decodeOnce(body) != nil {
			continue // left to decodeTwice
		}
		accepted++
		twice := &page[Token]{key: "tokens"}
		twice.reset()
		if err := twice.decodeTwice(body); err != nil || twice.itemsErr != nil {
			t.Errorf("%s: the one pass accepts what encoding/json refuses: %v %v", item, err, twice.itemsErr)
			continue
		}
		if diff := cmp.Diff(twice.items, once.items, sameTime); diff != "" {
			t.Errorf("%s (-encoding/json +one pass):\n%s", item, diff)
		}
	}
	if accepted < len(items)/2 {
		t.Errorf("the one pass accepts %d of %d pages; the test compares too few", accepted, len(items))
	}
}
