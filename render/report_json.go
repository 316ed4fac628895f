package render

import (
	"bufio"
	"bytes"
	"encoding"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"unicode"
	"unicode/utf8"

	"github.com/tokensync/tokensync/access"
)

// ReportJSON writes the report document (access.Document, of
// format_version 2) on one line, followed by a newline: the document
// encodeJSON would write, without its indentation, streamed through a
// buffer as it is encoded, every string escaped once.
func ReportJSON(w io.Writer, r access.Report) error {
	return streamJSON(w, r.Document(), false)
}

// ReportJSONIndent writes the report document indented by two spaces a
// level (report -o json --indent), byte for byte what encodeJSON writes.
func ReportJSONIndent(w io.Writer, r access.Report) error {
	return streamJSON(w, r.Document(), true)
}

// streamJSON writes v as encodeJSON does (encoding/json's document, every
// character Safe escapes written as a \u escape), followed by a newline,
// but in one pass and without holding the document: it walks v by its
// json tags, so a field added to the report is written without this code
// knowing it. What it does not walk itself (a type with its own
// MarshalJSON or MarshalText, an embedded struct, a float, []byte, a map
// whose keys are not strings) goes through encoding/json and
// EscapeQuoted, as encodeJSON does, and is spliced in.
func streamJSON(w io.Writer, v any, indent bool) error {
	e := &jsonStream{w: bufio.NewWriterSize(w, 64<<10), indent: indent}
	if rv := reflect.ValueOf(v); rv.IsValid() {
		typeEncoder(rv.Type())(e, rv)
	} else {
		e.w.WriteString("null")
	}
	if e.err != nil {
		return e.err
	}
	e.w.WriteByte('\n')
	return e.w.Flush() // bufio keeps the first write error
}

// jsonStream is the state of one document being written.
type jsonStream struct {
	w       *bufio.Writer
	indent  bool
	depth   int
	scratch []byte
	err     error // of encoding/json, for what it encodes
}

// open starts an object or array.
func (e *jsonStream) open(c byte) {
	e.w.WriteByte(c)
	e.depth++
}

// next starts the element of a container after n elements written.
func (e *jsonStream) next(n int) {
	if n > 0 {
		e.w.WriteByte(',')
	}
	e.newline(e.depth)
}

// close ends an object or array of n elements.
func (e *jsonStream) close(c byte, n int) {
	e.depth--
	if n > 0 {
		e.newline(e.depth)
	}
	e.w.WriteByte(c)
}

func (e *jsonStream) newline(depth int) {
	if !e.indent {
		return
	}
	e.w.WriteByte('\n')
	for range depth {
		e.w.WriteString("  ")
	}
}

// encoderFunc writes one value of a type.
type encoderFunc func(e *jsonStream, v reflect.Value)

var encoders gosync.Map // reflect.Type → encoderFunc

// typeEncoder is the encoder of t, built once; a type that refers to
// itself gets an encoder that waits for its own.
func typeEncoder(t reflect.Type) encoderFunc {
	if f, ok := encoders.Load(t); ok {
		return f.(encoderFunc)
	}
	var (
		wg gosync.WaitGroup
		f  encoderFunc
	)
	wg.Add(1)
	fi, loaded := encoders.LoadOrStore(t, encoderFunc(func(e *jsonStream, v reflect.Value) {
		wg.Wait()
		f(e, v)
	}))
	if loaded {
		return fi.(encoderFunc)
	}
	f = newTypeEncoder(t)
	wg.Done()
	encoders.Store(t, f)
	return f
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func marshals(t reflect.Type) bool {
	return t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(marshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)
}

func newTypeEncoder(t reflect.Type) encoderFunc {
	if marshals(t) {
		return fallbackEncoder
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(e *jsonStream, v reflect.Value) { e.w.WriteString(strconv.FormatBool(v.Bool())) }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(e *jsonStream, v reflect.Value) {
			e.scratch = strconv.AppendInt(e.scratch[:0], v.Int(), 10)
			e.w.Write(e.scratch)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(e *jsonStream, v reflect.Value) {
			e.scratch = strconv.AppendUint(e.scratch[:0], v.Uint(), 10)
			e.w.Write(e.scratch)
		}
	case reflect.String:
		return func(e *jsonStream, v reflect.Value) { writeJSONString(e.w, v.String()) }
	case reflect.Struct:
		return newStructEncoder(t)
	case reflect.Map:
		if t.Key().Kind() == reflect.String && !marshals(t.Key()) {
			return newMapEncoder(t)
		}
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 {
			return newArrayEncoder(t, true)
		}
	case reflect.Array:
		return newArrayEncoder(t, false)
	case reflect.Pointer:
		elem := typeEncoder(t.Elem())
		return func(e *jsonStream, v reflect.Value) {
			if v.IsNil() {
				e.w.WriteString("null")
				return
			}
			elem(e, v.Elem())
		}
	case reflect.Interface:
		return func(e *jsonStream, v reflect.Value) {
			if v.IsNil() {
				e.w.WriteString("null")
				return
			}
			typeEncoder(v.Elem().Type())(e, v.Elem())
		}
	}
	return fallbackEncoder
}

// fallbackEncoder writes v by encoding/json and EscapeQuoted, indented
// where it stands.
func fallbackEncoder(e *jsonStream, v reflect.Value) {
	if e.err != nil {
		return
	}
	x := v.Interface()
	if v.Kind() != reflect.Pointer && v.CanAddr() {
		x = v.Addr().Interface() // as encoding/json, for methods on the pointer
	}
	b, err := json.Marshal(x)
	if err != nil {
		e.err = err
		return
	}
	b = EscapeQuoted(b, jsonEscape)
	if e.indent {
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, strings.Repeat("  ", e.depth), "  "); err != nil {
			e.err = err
			return
		}
		b = buf.Bytes()
	}
	e.w.Write(b)
}

// field is one field of a struct as encoding/json writes it.
type field struct {
	index     int
	key       string // "name": (compact) or "name": with a space (indented), escaped
	omitEmpty bool
	omitZero  bool
	encode    encoderFunc
}

// newStructEncoder writes a struct's exported fields by their json tags;
// a struct with an embedded field, or a field tagged ,string, goes
// through encoding/json (its rules for those are its own).
func newStructEncoder(t reflect.Type) encoderFunc {
	var fields []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return fallbackEncoder
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || !validTagName(name) {
			name = sf.Name
		}
		f := field{index: i}
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitempty":
				f.omitEmpty = true
			case "omitzero":
				f.omitZero = true
			case "string":
				return fallbackEncoder
			}
		}
		var kb strings.Builder
		writeJSONString(&kb, name)
		f.key = kb.String() + ":"
		f.encode = typeEncoder(sf.Type)
		fields = append(fields, f)
	}
	return func(e *jsonStream, v reflect.Value) {
		e.open('{')
		n := 0
		for _, f := range fields {
			fv := v.Field(f.index)
			if (f.omitEmpty && isEmptyValue(fv)) || (f.omitZero && isZeroValue(fv)) {
				continue
			}
			e.next(n)
			n++
			e.w.WriteString(f.key)
			if e.indent {
				e.w.WriteByte(' ')
			}
			f.encode(e, fv)
		}
		e.close('}', n)
	}
}

// validTagName is encoding/json's rule for a name in a json tag.
func validTagName(s string) bool {
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// isEmptyValue is encoding/json's omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZeroValue is encoding/json's omitzero: IsZero() when the type has it.
func isZeroValue(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}

// newArrayEncoder writes a slice (nil is null) or an array.
func newArrayEncoder(t reflect.Type, slice bool) encoderFunc {
	elem := typeEncoder(t.Elem())
	return func(e *jsonStream, v reflect.Value) {
		if slice && v.IsNil() {
			e.w.WriteString("null")
			return
		}
		e.open('[')
		n := v.Len()
		for i := range n {
			e.next(i)
			elem(e, v.Index(i))
		}
		e.close(']', n)
	}
}

// newMapEncoder writes a map of string keys, sorted (nil is null).
func newMapEncoder(t reflect.Type) encoderFunc {
	elem := typeEncoder(t.Elem())
	return func(e *jsonStream, v reflect.Value) {
		if v.IsNil() {
			e.w.WriteString("null")
			return
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		e.open('{')
		for i, k := range keys {
			e.next(i)
			writeJSONString(e.w, k.String())
			e.w.WriteByte(':')
			if e.indent {
				e.w.WriteByte(' ')
			}
			elem(e, v.MapIndex(k))
		}
		e.close('}', len(keys))
	}
}

// stringWriter is what a JSON string is written to.
type stringWriter interface {
	io.ByteWriter
	io.StringWriter
}

// plainASCII are the ASCII bytes written as they are inside a JSON string:
// encoding/json escapes the controls, the quote, the backslash and <, >
// and & (for HTML); EscapeQuoted escapes DEL.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for b := ' '; b < utf8.RuneSelf-1; b++ {
		t[b] = !strings.ContainsRune(`"\<>&`, b)
	}
	return t
}()

const jsonHex = "0123456789abcdef"

// writeJSONString writes s as a quoted JSON string, in one pass, as
// encodeJSON would: encoding/json's escapes (\" \\ \b \f \n \r \t, \u00XX
// for the other controls and <, >, &; \ufffd for a byte that is not UTF-8)
// and a \u escape for every other character Safe escapes (DEL, C1
// controls, line and paragraph separators, bidirectional and zero-width
// characters, the BOM; a surrogate pair above U+FFFF); and the second '#'
// of a "##[" as \u0023, as EscapeQuoted writes it.
func writeJSONString(w stringWriter, s string) {
	w.WriteByte('"')
	start := 0
	var esc [12]byte
	for i := 0; i < len(s); {
		b := s[i]
		if b == '#' && strings.HasPrefix(s[i:], "##[") { // a workflow command of GitHub Actions (spec.NoCommand)
			w.WriteString(s[start:i])
			w.WriteString(`#\u0023`)
			i += 2
			start = i
			continue
		}
		if b < utf8.RuneSelf {
			if plainASCII[b] {
				i++
				continue
			}
			w.WriteString(s[start:i])
			switch b {
			case '"', '\\':
				w.WriteByte('\\')
				w.WriteByte(b)
			case '\b':
				w.WriteString(`\b`)
			case '\f':
				w.WriteString(`\f`)
			case '\n':
				w.WriteString(`\n`)
			case '\r':
				w.WriteString(`\r`)
			case '\t':
				w.WriteString(`\t`)
			default:
				w.WriteString(`\u00`)
				w.WriteByte(jsonHex[b>>4])
				w.WriteByte(jsonHex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			w.WriteString(s[start:i])
			w.WriteString(`\ufffd`)
		case Escapes(r):
			w.WriteString(s[start:i])
			w.WriteString(string(jsonEscape(esc[:0], r)))
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	w.WriteString(s[start:])
	w.WriteByte('"')
}
