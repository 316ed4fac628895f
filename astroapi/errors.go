package astroapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrNotFound matches, through errors.Is, an *Error with status 404.
var ErrNotFound = errors.New("not found")

// ErrUnauthorized matches, through errors.Is, an *Error with status 401: the
// credential is missing, invalid or expired.
var ErrUnauthorized = errors.New("unauthorized")

// ErrForbidden matches, through errors.Is, an *Error with status 403: the
// credential is valid but not allowed to do this.
var ErrForbidden = errors.New("forbidden")

// Error is an answer of the Astro API with a status other than 200 or 204.
// Message and RequestID come from the API's error body when it has one;
// otherwise Message is a short, sanitized snippet of whatever the server sent.
type Error struct {
	Method      string // HTTP method, e.g. "GET"
	Path        string // path relative to the base URL, without query
	StatusCode  int
	Message     string
	RequestID   string
	FieldErrors []FieldError
}

// Error reads like
// `GET /organizations/o/tokens: 403 Forbidden: <message> (request <id>)`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for i, fe := range e.FieldErrors {
		if i == 0 {
			b.WriteString(" [")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(fe.Field)
		if fe.Message != "" {
			b.WriteString(": ")
			b.WriteString(fe.Message)
		}
		if fe.Code != "" {
			b.WriteString(" (")
			b.WriteString(fe.Code)
			b.WriteByte(')')
		}
		if i == len(e.FieldErrors)-1 {
			b.WriteByte(']')
		}
	}
	if e.RequestID != "" {
		b.WriteString(" (request ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	return b.String()
}

// Is reports whether target is the sentinel for e's status code
// (ErrNotFound, ErrUnauthorized or ErrForbidden).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	}
	return false
}

// redact replaces every occurrence of secret in e's server-provided text. It
// mutates e, which do creates afresh for every attempt.
func (e *Error) redact(secret string) {
	if secret == "" {
		return
	}
	e.Method = redactString(e.Method, secret)
	e.Path = redactString(e.Path, secret)
	e.Message = redactString(e.Message, secret)
	e.RequestID = redactString(e.RequestID, secret)
	for i := range e.FieldErrors {
		fe := &e.FieldErrors[i]
		fe.Field = redactString(fe.Field, secret)
		fe.Code = redactString(fe.Code, secret)
		fe.Message = redactString(fe.Message, secret)
	}
}

const redacted = "[REDACTED]"

// redactedError is an error whose text had to be redacted. It shows only the
// redacted text, and has no Unwrap, so the original text cannot be reached;
// errors.Is and errors.As still see the original error (an *Error found
// through As has been redacted itself).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) GoString() string     { return strconv.Quote(e.msg) }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
func (e *redactedError) As(target any) bool   { return errors.As(e.err, target) }

// redactString replaces every occurrence of secret in s, text meant for
// people (an error message, a log line). Data decoded from the API is never
// redacted: it must reach the caller byte for byte.
func redactString(s, secret string) string { return Redact(s, secret) }

// minCut is the shortest start of a credential that Redact takes for a
// cut copy of it.
const minCut = 8

// Redact returns s, text meant for people (a message, never data), with
// the credential secret replaced by [REDACTED] wherever it shows: whole,
// escaped as a Go-quoted string or a URL's path or query escapes it (an id
// that holds it, in a request's path), or cut as messages cut long
// text (its first minCut or more characters followed by "..."). It is the
// rule of the client's own messages, for the text a caller prints that the
// client never saw, such as an error that quotes a spec file.
func Redact(s, secret string) string {
	if secret == "" {
		return s
	}
	// The forms the client itself writes it in: as it is, Go-quoted in
	// messages, escaped in a request's path or query (an id that holds it).
	forms := []string{secret}
	for _, form := range []string{strconv.Quote(secret), url.PathEscape(secret), url.QueryEscape(secret)} {
		if form = strings.TrimSuffix(strings.TrimPrefix(form, `"`), `"`); !slices.Contains(forms, form) {
			forms = append(forms, form)
		}
	}
	for _, form := range forms {
		s = strings.ReplaceAll(s, form, redacted)
	}
	if len(secret) <= minCut || !strings.Contains(s, "...") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "...")
		if i < 0 {
			break
		}
		b.WriteString(uncut(s[:i], forms) + "...")
		s = s[i+3:]
	}
	b.WriteString(s)
	return b.String()
}

// uncut is head, text a message cut right after it, with a cut copy of
// any of the forms of the credential at its end (minCut characters or
// more of its start) redacted.
func uncut(head string, forms []string) string {
	for _, form := range forms {
		for k := min(len(head), len(form)-1); k >= minCut; k-- {
			if strings.HasSuffix(head, form[:k]) {
				return head[:len(head)-k] + redacted
			}
		}
	}
	return head
}

// redactBytes is redactString for a body that only feeds a message.
func redactBytes(b []byte, secret string) []byte {
	if secret == "" || !bytes.Contains(b, []byte(secret)) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(secret), []byte(redacted))
}

// Limits on text taken from a server into an error message.
const (
	maxMessageLen = 1024 // a JSON error body's message, field errors, request id
	maxSnippetLen = 200  // a non-JSON body shown as the message
)

// sanitize makes server-provided text safe to print on one terminal line:
// invalid UTF-8, control characters and runs of white space become single
// spaces, and the result is cut to at most max bytes (on a rune boundary)
// with "..." appended when cut.
func sanitize(s string, max int) string {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r)
	})
	out := strings.Join(fields, " ")
	if len(out) <= max {
		return out
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut] + "..."
}

// snippet turns a non-JSON body (an HTML error page from a proxy, plain
// text) into a short sanitized string: markup is dropped, white space
// collapsed, the length capped.
func snippet(body []byte) string {
	if len(body) > 8*maxSnippetLen {
		body = body[:8*maxSnippetLen]
	}
	s := string(body)
	if strings.Contains(s, "<") {
		s = stripTags(s)
	}
	return sanitize(s, maxSnippetLen)
}

// stripTags replaces everything between '<' and '>' with a space. It is
// meant for short diagnostic snippets, not for parsing HTML.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}
