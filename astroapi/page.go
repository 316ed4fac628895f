package astroapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// page is one page of a list, as listPage asks do to decode it: the items
// under key, totalCount, and the envelope's other fields when withEnv.
//
// It decodes the body in one pass over the envelope: the items straight
// into their slice, each other field as a raw message. Only when that
// pass fails does it decode the body again the way the client always has
// (into a map of raw messages, then the items and totalCount from it), so
// that every error, and whether the body is refused as a whole or a field
// of it, is as before. The one pass accepts only what that way accepts,
// and gives the same items, total and fields.
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
var errNotOnce = errors.New("not a list envelope")

// decodeOnce decodes body in one pass. Any error means: decode it again
// with decodeTwice. A key is matched exactly, as in a map; a key given
// twice counts once, with its last value.
func (p *page[T]) decodeOnce(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errNotOnce
	}
	found := false
	var totalRaw json.RawMessage
	if p.withEnv {
		p.env = map[string]json.RawMessage{}
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k, ok := t.(string)
		if !ok {
			return errNotOnce
		}
		switch k {
		case p.key:
			p.items = nil // a later value replaces an earlier one whole
			if err := dec.Decode(&p.items); err != nil {
				return err
			}
			found = true
		default:
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			if k == totalKey {
				totalRaw = raw
			}
			if p.withEnv {
				p.env[k] = raw
			}
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return errNotOnce
	}
	if _, err := dec.Token(); err != io.EOF {
		return errNotOnce // more than one value
	}
	if !found {
		return errNotOnce
	}
	if totalRaw != nil && string(totalRaw) != "null" {
		return json.Unmarshal(totalRaw, &p.total)
	}
	return nil
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
