package astroapi

import (
	"fmt"
	"strings"
	"testing"

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
