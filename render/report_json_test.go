package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/access"
)

// TestReportJSONIsEncodeJSON: the streamed report is the document the one
// rule of encodeJSON writes, byte for byte: indented with --indent, and on
// one line without.
func TestReportJSONIsEncodeJSON(t *testing.T) {
	rs := reports()
	rs["hostile"] = hostileReport()
	rs["hostile-fixture"] = newHostileFixture().report
	rs["empty"] = access.Report{}
	if !testing.Short() {
		rs["large"] = largeOnce()
	}
	for name, r := range rs {
		t.Run(name, func(t *testing.T) {
			for _, indent := range []bool{false, true} {
				var want, got bytes.Buffer
				if err := encodeJSON(&want, r.Document(), indent); err != nil {
					t.Fatal(err)
				}
				write := ReportJSON
				if indent {
					write = ReportJSONIndent
				}
				if err := write(&got, r); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(want.Bytes(), got.Bytes()) {
					t.Errorf("indent %t: differs from encodeJSON (-want +got):\n%s", indent, cmp.Diff(want.String(), got.String()))
				}
			}
		})
	}
}

// TestStreamJSONIsEncodeJSON: streamJSON writes every kind of value and
// every json tag option as encodeJSON does, those it leaves to
// encoding/json (marshalers, embedded structs, floats, bytes, maps of
// other keys) included, and escapes every character alike.
func TestStreamJSONIsEncodeJSON(t *testing.T) {
	type Inner struct {
		A string `json:"a"`
		B []int  `json:"b,omitempty"`
	}
	type Embeds struct {
		Inner
		C string
	}
	type Node struct {
		Name string `json:"name"`
		Next *Node  `json:"next,omitempty"`
	}
	type Quoted struct {
		N int `json:"n,string"`
	}
	type All struct {
		S         string `json:"s"`
		Untagged  string
		Renamed   string `json:",omitempty"`
		Dash      string `json:"-,"`
		Skipped   string `json:"-"`
		unexport  string
		Bad       string            `json:"a\"b"`
		I         int64             `json:"i"`
		U         uint8             `json:"u"`
		F         float64           `json:"f"`
		T         bool              `json:"t"`
		Empty     []string          `json:"empty"`
		Nil       []string          `json:"nil"`
		NilOmit   []string          `json:"nil_omit,omitempty"`
		Arr       [2]Inner          `json:"arr"`
		Bytes     []byte            `json:"bytes"`
		Map       map[string]string `json:"map"`
		NilMap    map[string]int    `json:"nil_map"`
		IntMap    map[int]string    `json:"int_map"`
		Ptr       *Inner            `json:"ptr"`
		NilPtr    *Inner            `json:"nil_ptr"`
		Any       any               `json:"any"`
		NilAny    any               `json:"nil_any"`
		Time      time.Time         `json:"time"`
		ZeroTime  time.Time         `json:"zero_time,omitzero"`
		ZeroInner Inner             `json:"zero_inner,omitzero"`
		Raw       json.RawMessage   `json:"raw"`
		Embeds    Embeds            `json:"embeds"`
		Quoted    Quoted            `json:"quoted"`
		List      *Node             `json:"list"`
		Nested    [][]Inner         `json:"nested"`
		EmptyObj  struct{}          `json:"empty_obj"`
	}
	var every strings.Builder
	for b := range 0x80 {
		every.WriteByte(byte(b))
	}
	every.WriteString("\x80\xff\xc3 \ufffd é \u2028\u2029 \U0001F600 " + everyHidden)
	s := every.String()
	v := All{
		S: s, Untagged: s, Renamed: s, Dash: s, Skipped: s, unexport: s, Bad: s, I: -42, U: 7, F: 1.5e-7, T: true,
		Empty: []string{}, Arr: [2]Inner{{A: s}, {B: []int{1, 2}}}, Bytes: []byte(s),
		Map: map[string]string{s: s, "b": "", "a": "<&>"}, IntMap: map[int]string{2: s, 1: "x"},
		Ptr: &Inner{A: s}, Any: map[string]any{"k": []any{1.25, s, nil, Inner{A: s}}},
		Time: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), Raw: json.RawMessage(`{"x": [1, 2]}`),
		Embeds: Embeds{Inner: Inner{A: s}, C: s}, Quoted: Quoted{N: 3},
		List: &Node{Name: s, Next: &Node{Name: "two"}}, Nested: [][]Inner{{}, {{A: s}}},
	}
	for _, x := range []any{v, &v, s, []any{}, map[string]any{}, nil} {
		for _, indent := range []bool{false, true} {
			var want, got bytes.Buffer
			if err := encodeJSON(&want, x, indent); err != nil {
				t.Fatal(err)
			}
			if err := streamJSON(&got, x, indent); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("%T, indent %t: differs from encodeJSON (-want +got):\n%s", x, indent, diff)
			}
		}
	}
}

// TestStreamJSONError: a value encoding/json refuses is an error.
func TestStreamJSONError(t *testing.T) {
	if err := streamJSON(&bytes.Buffer{}, map[string]any{"f": func() {}}, false); err == nil {
		t.Error("a func was written")
	}
}

// BenchmarkReportJSON writes the large report (300 deployments, 6,000
// principals, about 57,000 cells) as report -o json does, compact and
// with --indent, and by encodeJSON, the way it was written before.
func BenchmarkReportJSON(b *testing.B) {
	r := largeOnce()
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"compact", func(w *bytes.Buffer) error { return ReportJSON(w, r) }},
		{"indent", func(w *bytes.Buffer) error { return ReportJSONIndent(w, r) }},
		{"encodeJSON", func(w *bytes.Buffer) error { return encodeJSON(w, r.Document(), true) }},
	} {
		b.Run(f.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := f.write(&buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len())/1e6, "MB")
		})
	}
}

// TestReportJSONSize: the large report (300 deployments, 6,000
// principals, about 57,000 cells) is written in under 80 bytes a cell:
// each principal and grant spelled once, a cell naming them by index (in
// format_version 1, every cell spelled its principal and grants out:
// about 230 bytes a cell at the benchmarks' size R).
func TestReportJSONSize(t *testing.T) {
	if testing.Short() {
		t.Skip("the large report")
	}
	r := largeOnce()
	cells := 0
	for _, d := range r.Deployments {
		cells += len(d.Access)
	}
	var buf bytes.Buffer
	if err := ReportJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if cells < 50000 || buf.Len() > 80*cells {
		t.Errorf("%d bytes for %d cells (%.0f a cell), want at most 80 a cell", buf.Len(), cells, float64(buf.Len())/float64(cells))
	}
}
