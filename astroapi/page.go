package astroapi

import (
	"bytes"
	"encoding/json"
	"errors"

	segjson "github.com/segmentio/encoding/json"
)

// page is one page of a list, as listPage asks do to decode it: the items
// under key, totalCount, and the envelope's other fields when withEnv.
//
// It decodes the body in one pass over the envelope: the items straight
// from the body into their slice, each other field as a raw message. Only
// when that pass fails does it decode the body again the way the client
// always has (into a map of raw messages, then the items and totalCount
// from it), so that every error, and whether the body is refused as a
// whole or a field of it, is as before. The one pass accepts only what
// that way accepts, and gives the same items, total and fields.
type page[T listItem] struct {
	key     string
	withEnv bool

	items []T
	total int // -1 when the answer has none or it is null
	env   map[string]json.RawMessage

	// What the body, a JSON value, lacks or holds wrong: listPage's errors.
	missing            bool
	itemsErr, totalErr error
}

// totalKey is the field of a list envelope that counts its items.
const totalKey = "totalCount"

func (p *page[T]) decodeBody(body []byte) error {
	p.reset()
	if p.decodeOnce(body) == nil {
		return nil
	}
	p.reset()
	return p.decodeTwice(body)
}

func (p *page[T]) reset() {
	p.items, p.total, p.env = nil, -1, nil
	p.missing, p.itemsErr, p.totalErr = false, nil, nil
}

// errNotOnce is why decodeOnce gave up, when it was not a decoder error.
var errNotOnce = errors.New("not a list envelope that one pass decodes")

// maxOnceDepth is the deepest nesting of a field's value that decodeOnce
// takes. It decodes each field alone, so json's limit of the whole body
// does not apply; a deeper body is left to decodeTwice, which applies it.
const maxOnceDepth = 64

// decodeOnce decodes body in one pass. Any error means: decode it again
// with decodeTwice. It walks the envelope itself, accepting only an object
// whose keys are plain ASCII without escapes, and decodes each field's
// value with json.Unmarshal of exactly that value, which checks it: so
// what it accepts is valid JSON, decoded as decodeTwice would. A key is
// matched exactly, as in a map; a key given twice counts once, with its
// last value.
//
// The items, most of a page, are decoded with segmentio's json package, a
// faster drop-in for encoding/json that reads the same values from the
// same input; where it refuses a value that encoding/json takes (some
// timestamps), decodeTwice decodes the page with encoding/json, so an
// error is always encoding/json's (TestPageItemsDecodeLikeEncodingJSON,
// FuzzPageDecode).
func (p *page[T]) decodeOnce(body []byte) error {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return errNotOnce
	}
	if p.withEnv {
		p.env = map[string]json.RawMessage{}
	}
	var m onceMembers
	for {
		end, err := p.member(body, skipSpace(body, i+1), &m)
		if err != nil {
			return err
		}
		i = skipSpace(body, end)
		if i == len(body) {
			return errNotOnce
		}
		if body[i] == '}' {
			break
		}
		if body[i] != ',' {
			return errNotOnce
		}
	}
	if skipSpace(body, i+1) != len(body) || !m.found {
		return errNotOnce
	}
	if m.totalRaw != nil && string(m.totalRaw) != "null" {
		return json.Unmarshal(m.totalRaw, &p.total)
	}
	return nil
}

// onceMembers is what decodeOnce keeps of the envelope's members: whether
// the items were found, and the raw total.
type onceMembers struct {
	found    bool
	totalRaw []byte
}

// member decodes the envelope's member "key": value at i, and returns the
// index just after its value.
func (p *page[T]) member(body []byte, i int, m *onceMembers) (int, error) {
	k, next, ok := plainKey(body, i)
	if !ok {
		return 0, errNotOnce
	}
	i = skipSpace(body, next)
	if i == len(body) || body[i] != ':' {
		return 0, errNotOnce
	}
	i = skipSpace(body, i+1)
	end, ok := skipValue(body, i)
	if !ok {
		return 0, errNotOnce
	}
	v := body[i:end]
	switch {
	case k == p.key:
		p.items = nil // a later value replaces an earlier one whole
		if err := segjson.Unmarshal(v, &p.items); err != nil {
			return 0, err
		}
		m.found = true
	case !json.Valid(v):
		return 0, errNotOnce
	default:
		if k == totalKey {
			m.totalRaw = v
		}
		if p.withEnv {
			p.env[k] = bytes.Clone(v)
		}
	}
	return end, nil
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainKey reads the key at i: a string of printable ASCII without
// escapes, and returns it and the index after its closing quote.
func plainKey(b []byte, i int) (key string, next int, ok bool) {
	if i == len(b) || b[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return "", 0, false
		}
	}
	return "", 0, false
}

// skipValue returns the index after the JSON value that starts at i,
// finding its end without checking it (json.Unmarshal or json.Valid of the
// value does): strings are skipped whole, brackets counted, a scalar runs
// to the next delimiter. It fails at the end of b and on nesting deeper
// than maxOnceDepth.
func skipValue(b []byte, i int) (end int, ok bool) {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return 0, false
			}
			i++
		case '{', '[':
			if depth++; depth > maxOnceDepth {
				return 0, false
			}
			i++
			continue
		case '}', ']':
			if depth--; depth < 0 {
				return 0, false
			}
			i++
		default:
			if depth > 0 {
				i++
				continue
			}
			start := i
			for i < len(b) && !isDelimiter(b[i]) {
				i++
			}
			return i, i > start
		}
		if depth == 0 {
			return i, true
		}
	}
	return 0, false
}

// isDelimiter reports whether c ends a JSON number or literal.
func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// decodeTwice is how the client decoded a page before decodeOnce, and
// what gives its errors: the body into a map of raw messages (an error
// here refuses the body), then the items and totalCount from the map.
func (p *page[T]) decodeTwice(body []byte) error {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return err
	}
	raw, ok := env[p.key]
	if !ok {
		p.missing = true
		return nil
	}
	if err := json.Unmarshal(raw, &p.items); err != nil {
		p.items, p.itemsErr = nil, err
		return nil
	}
	if raw, ok := env[totalKey]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &p.total); err != nil {
			p.totalErr = err
			return nil
		}
	}
	if p.withEnv {
		delete(env, p.key)
		p.env = env
	}
	return nil
}

// listCapacity is how many items to make room for after the first page of
// a list: the whole list as totalCount claims it, but no more than 64
// pages of the first page's size, so that a claim alone cannot make the
// client allocate.
func listCapacity(firstPage, total int) int {
	return max(firstPage, min(total, 64*firstPage))
}
