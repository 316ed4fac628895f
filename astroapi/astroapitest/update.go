package astroapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

// nameUpdate is the body of POST /tokens/{id} (UpdateApiTokenRequest) and
// POST /teams/{id} (UpdateTeamRequest): a new name, required, and
// optionally a new description; a description left out is kept.
type nameUpdate struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// decodeObject reads a request body strictly as one JSON object of type T:
// no unknown field, nothing after it, not null. want shows the expected
// shape in the message of an empty body.
func decodeObject[T any](c *call, want string) (T, []astroapi.FieldError) {
	var zero T
	bad := func(field, code, format string, args ...any) (T, []astroapi.FieldError) {
		return zero, []astroapi.FieldError{{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}}
	}
	var raw bytes.Buffer // what the decoder read: all of the body, once it is checked to end
	dec := json.NewDecoder(io.TeeReader(http.MaxBytesReader(c.w, c.r.Body, maxBody), &raw))
	dec.DisallowUnknownFields()
	var in *T
	if err := dec.Decode(&in); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return bad("body", "required", "the request body is empty: want %s", want)
		case errors.As(err, &te) && te.Field != "":
			return bad(te.Field, "type", "%s must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		case errors.As(err, &te):
			return bad("body", "type", "the request body must be a JSON object, not %s", te.Value)
		}
		return bad("body", "invalid_json", "the request body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("body", "invalid_json", "the request body has data after the JSON object")
	}
	if in == nil {
		return bad("body", "type", "the request body must be a JSON object, not null")
	}
	if key := inexactKey(raw.Bytes(), jsonNames(reflect.TypeFor[T]())); key != "" {
		// encoding/json matches a field name in any case; the API's are exact.
		return bad(key, "unknown", "unknown field %q (field names are case-sensitive)", key)
	}
	return *in, nil
}

// jsonNames are the JSON field names of t and of the types it holds.
func jsonNames(t reflect.Type) map[string]bool {
	names := make(map[string]bool)
	seen := make(map[reflect.Type]bool)
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			walk(t.Elem())
		case reflect.Struct:
			for f := range t.Fields() {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				switch {
				case !f.IsExported() || name == "-":
					continue
				case f.Anonymous && name == "": // flattened into t
				case name == "":
					names[f.Name] = true
				default:
					names[name] = true
				}
				walk(f.Type)
			}
		}
	}
	walk(t)
	return names
}

// inexactKey returns the first key of an object in the JSON data (valid
// JSON) that is not one of names, or "".
func inexactKey(data []byte, names map[string]bool) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var objects []bool // per open container: an object (true) or a list
	wantKey := false   // the next string of the innermost object is a key
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		inObject := len(objects) > 0 && objects[len(objects)-1]
		switch tok {
		case json.Delim('{'), json.Delim('['):
			objects = append(objects, tok == json.Delim('{'))
			wantKey = tok == json.Delim('{')
			continue
		case json.Delim('}'), json.Delim(']'):
			objects = objects[:len(objects)-1]
			wantKey = len(objects) > 0 && objects[len(objects)-1] // a value of the parent ended
			continue
		}
		if key, ok := tok.(string); ok && inObject && wantKey {
			if !names[key] {
				return key
			}
			wantKey = false
			continue
		}
		wantKey = inObject // a value ended
	}
}

// decodeNameUpdate reads a nameUpdate strictly (decodeObject) with a name
// that is not empty.
func decodeNameUpdate(c *call) (nameUpdate, []astroapi.FieldError) {
	in, fe := decodeObject[nameUpdate](c, `{"name": ..., "description": ...}`)
	var msg string
	switch {
	case len(fe) > 0:
		return in, fe
	case in.Name == nil:
		msg = "name is required"
	case strings.TrimSpace(*in.Name) == "":
		msg = "name must not be empty"
	default:
		return in, nil
	}
	return in, []astroapi.FieldError{{Field: "name", Code: "required", Message: msg}}
}

// apply sets name, and description when the update has one.
func (u nameUpdate) apply(name, description *string) {
	*name = *u.Name
	if u.Description != nil {
		*description = *u.Description
	}
}

// bump returns the updatedAt of a write after prev: now, or just after
// prev when the clock has not moved past it.
func bump(prev time.Time) time.Time {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !now.After(prev) {
		now = prev.Add(time.Millisecond)
	}
	return now
}

// updateToken answers POST /tokens/{tokenId}: a new name and description
// (UpdateApiTokenRequest), as the Astro CLI's `token update` sends before
// it writes roles. It answers the token.
func (c *call) updateToken(id string) {
	if c.noQuery() || c.readOnly() {
		return
	}
	in, fe := decodeNameUpdate(c)
	s := c.s
	s.mu.Lock()
	t := s.token(id)
	switch {
	case t == nil:
		s.mu.Unlock()
		c.fail(http.StatusNotFound, fmt.Sprintf("token %q not found", id), nil)
		return
	case !c.mayWrite(t):
		s.mu.Unlock()
		c.forbidden("this API token may not update token %q", id)
		return
	case len(fe) > 0:
		s.mu.Unlock()
		c.fail(http.StatusBadRequest, "invalid request body: "+fe[0].Message, fe)
		return
	}
	in.apply(&t.Name, &t.Description)
	t.UpdatedAt = bump(s.updatedAt(t))
	s.tokenMeta[t.ID].updatedBy = c.subject()
	v := s.apiToken(t)
	s.mu.Unlock()
	c.reply(http.StatusOK, v)
}

// updateTeam answers POST /teams/{teamId}: a new name and description
// (UpdateTeamRequest), as `astro organization team update` sends before it
// writes roles. A credential confined to workspaces may not (as for its
// roles, inferred). It answers the team.
func (c *call) updateTeam(id string) {
	if c.noQuery() || c.readOnly() {
		return
	}
	if c.restricted() {
		c.forbidden("this API token is confined to workspaces %s and may not update team %q", strings.Join(c.cred.WorkspaceIDs, ", "), id)
		return
	}
	in, fe := decodeNameUpdate(c)
	s := c.s
	s.mu.Lock()
	t, i := s.team(id)
	switch {
	case t == nil:
		s.mu.Unlock()
		c.fail(http.StatusNotFound, fmt.Sprintf("team %q not found", id), nil)
		return
	case len(fe) > 0:
		s.mu.Unlock()
		c.fail(http.StatusBadRequest, "invalid request body: "+fe[0].Message, fe)
		return
	}
	in.apply(&t.Name, &t.Description)
	t.UpdatedAt = bump(orCreated(t.UpdatedAt, s.teamCreated(t, i)))
	s.setSubjectUpdatedBy(kindTeam, id, c.subject())
	v := s.apiTeam(t, i)
	s.mu.Unlock()
	c.reply(http.StatusOK, v)
}
