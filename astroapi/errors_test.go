package astroapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{
			name: "message and request id",
			err:  &Error{Method: "GET", Path: "/organizations/o/tokens", StatusCode: 403, Message: "not allowed", RequestID: "req-1"},
			want: "GET /organizations/o/tokens: 403 Forbidden: not allowed (request req-1)",
		},
		{
			name: "no request id",
			err:  &Error{Method: "GET", Path: "/p", StatusCode: 404, Message: "token not found"},
			want: "GET /p: 404 Not Found: token not found",
		},
		{
			name: "no message",
			err:  &Error{Method: "GET", Path: "/p", StatusCode: 502},
			want: "GET /p: 502 Bad Gateway",
		},
		{
			name: "unknown status",
			err:  &Error{Method: "GET", Path: "/p", StatusCode: 599, Message: "odd"},
			want: "GET /p: 599: odd",
		},
		{
			name: "field errors",
			err: &Error{Method: "POST", Path: "/organizations/o/tokens/t/roles", StatusCode: 400, Message: "invalid request", RequestID: "r2",
				FieldErrors: []FieldError{{Field: "roles[0].role", Code: "INVALID", Message: "not a deployment role"}, {Field: "roles", Message: "required"}}},
			want: "POST /organizations/o/tokens/t/roles: 400 Bad Request: invalid request [roles[0].role: not a deployment role (INVALID); roles: required] (request r2)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorIs(t *testing.T) {
	sentinels := []error{ErrUnauthorized, ErrForbidden, ErrNotFound}
	tests := []struct {
		status int
		want   error // the one sentinel that matches, or nil
	}{
		{401, ErrUnauthorized},
		{403, ErrForbidden},
		{404, ErrNotFound},
		{400, nil},
		{409, nil},
		{500, nil},
		{503, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
				writeJSON(w, tt.status, ErrorBody{Message: "m", RequestID: "rid", StatusCode: tt.status})
			})
			c := newTestClient(t, ts, WithMaxRetries(0))
			_, err := c.Token(t.Context(), "o", "t")
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, s, got)
				}
			}
			wrapped := fmt.Errorf("read token: %w", err)
			if tt.want != nil && !errors.Is(wrapped, tt.want) {
				t.Errorf("errors.Is through a wrapper = false")
			}
		})
	}
}

func TestErrorDecoding(t *testing.T) {
	ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeRaw(w, 400, "application/json; charset=utf-8", `{
			"message": "Invalid request",
			"requestId": "cc1dbbd4-5d2b-4a45-a1a4-1c9c04b4e4fa",
			"statusCode": 400,
			"fieldErrors": [
				{"field": "roles[0].role", "code": "oneof", "message": "role must be a deployment role"},
				{"field": "roles", "code": "min", "message": "at least 1 item"}
			]}`)
	})
	c := newTestClient(t, ts)
	_, err := c.SetTokenRoles(t.Context(), "o", "t", []Role{{EntityID: "d", EntityType: EntityDeployment, Role: "WORKSPACE_OWNER"}})
	var got *Error
	if !errors.As(err, &got) {
		t.Fatalf("errors.As(%v, *Error) = false", err)
	}
	want := &Error{
		Method: "POST", Path: "/organizations/o/tokens/t/roles", StatusCode: 400,
		Message: "Invalid request", RequestID: "cc1dbbd4-5d2b-4a45-a1a4-1c9c04b4e4fa",
		FieldErrors: []FieldError{
			{Field: "roles[0].role", Code: "oneof", Message: "role must be a deployment role"},
			{Field: "roles", Code: "min", Message: "at least 1 item"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("*Error (-want +got):\n%s", diff)
	}
}

// TestDecodeResponse covers the pure decoding of one response, hostile ones
// included.
func TestDecodeResponse(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	ct := func(v string) http.Header { return http.Header{"Content-Type": {v}} }
	const nginx502 = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>`
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		wantToken Token
		wantErr   string // exact; "" means success
		wantAPI   *Error // when the error is an *Error
	}{
		{name: "200 JSON", status: 200, header: jsonCT, body: `{"id":"t1","name":"n"}`, wantToken: Token{ID: "t1", Name: "n"}},
		{name: "200 JSON with charset", status: 200, header: ct("application/json; charset=utf-8"), body: `{"id":"t1"}`, wantToken: Token{ID: "t1"}},
		{name: "200 JSON with unknown fields", status: 200, header: jsonCT, body: `{"id":"t1","newField":[1,2]}`, wantToken: Token{ID: "t1"}},
		{name: "204 ignores the body", status: 204, header: http.Header{}, body: ""},
		{name: "200 empty body", status: 200, header: jsonCT, body: "", wantErr: "GET /organizations/o/tokens/t: 200 OK with an empty body"},
		{name: "200 blank body", status: 200, header: jsonCT, body: " \n", wantErr: "GET /organizations/o/tokens/t: 200 OK with an empty body"},
		{name: "200 malformed JSON", status: 200, header: jsonCT, body: `{"id": x1}`, wantErr: "GET /organizations/o/tokens/t: decode response: invalid character 'x' looking for beginning of value"},
		{name: "200 truncated JSON", status: 200, header: jsonCT, body: `{"id":"t1","roles":[{"entityId"`, wantErr: "GET /organizations/o/tokens/t: decode response: unexpected end of JSON input"},
		{name: "200 trailing garbage", status: 200, header: jsonCT, body: `{"id":"t1"} {"id":"t2"}`, wantErr: "GET /organizations/o/tokens/t: decode response: invalid character '{' after top-level value"},
		{name: "200 wrong JSON type", status: 200, header: jsonCT, body: `["t1"]`, wantErr: "GET /organizations/o/tokens/t: decode response: json: cannot unmarshal array into Go value of type astroapi.Token"},
		{name: "200 wrong content type", status: 200, header: ct("text/html"), body: "<html><body>Please log in</body></html>", wantErr: `GET /organizations/o/tokens/t: 200 OK with content type "text/html", want application/json: "Please log in"`},
		{name: "200 without content type", status: 200, header: http.Header{}, body: `{"id":"t1"}`, wantErr: `GET /organizations/o/tokens/t: 200 OK with content type "", want application/json: "{\"id\":\"t1\"}"`},
		{name: "200 invalid content type", status: 200, header: ct("application/json; ;;="), body: `{}`, wantErr: `GET /organizations/o/tokens/t: 200 OK with content type "application/json; ;;=", want application/json: "{}"`},
		{
			name: "API error body", status: 404, header: jsonCT, body: `{"message":"token not found","requestId":"r-404","statusCode":404}`,
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 404, Message: "token not found", RequestID: "r-404"},
		},
		{
			name: "API error body without content type", status: 403, header: http.Header{}, body: `{"message":"no","requestId":"r"}`,
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 403, Message: "no", RequestID: "r"},
		},
		{
			name: "HTML error page from a proxy", status: 502, header: ct("text/html"), body: nginx502,
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 502, Message: "502 Bad Gateway 502 Bad Gateway nginx"},
		},
		{
			name: "empty error body", status: 503, header: http.Header{}, body: "",
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 503},
		},
		{
			name: "plain-text error body", status: 500, header: ct("text/plain"), body: "upstream connect error\r\nor disconnect\x1b[31m",
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 500, Message: "upstream connect error or disconnect [31m"},
		},
		{
			name: "malformed JSON error body", status: 500, header: jsonCT, body: `{"message": "half`,
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 500, Message: `{"message": "half`},
		},
		{
			name: "JSON error body of another shape", status: 400, header: jsonCT, body: `{"error":"bad"}`,
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 400, Message: `{"error":"bad"}`},
		},
		{
			name: "control characters in the API message", status: 400, header: jsonCT, body: `{"message":"bad\n\u001b[2Jrole","requestId":"r\t1"}`,
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 400, Message: "bad [2Jrole", RequestID: "r 1"},
		},
		{
			name: "201 is not success", status: 201, header: jsonCT, body: `{"id":"t1"}`,
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 201, Message: `{"id":"t1"}`},
		},
		{
			name: "304 is not success", status: 304, header: http.Header{}, body: "",
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 304},
		},
		{
			name: "302 is not success", status: 302, header: http.Header{"Location": {"https://elsewhere"}}, body: "",
			wantAPI: &Error{Method: "GET", Path: "/organizations/o/tokens/t", StatusCode: 302},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Token
			err := decodeResponse("GET", "/organizations/o/tokens/t", tt.status, tt.header, []byte(tt.body), &got, "")
			switch {
			case tt.wantAPI != nil:
				var apiErr *Error
				if !errors.As(err, &apiErr) {
					t.Fatalf("error %v is not an *Error", err)
				}
				if diff := cmp.Diff(tt.wantAPI, apiErr); diff != "" {
					t.Errorf("*Error (-want +got):\n%s", diff)
				}
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error = %v, want %q", err, tt.wantErr)
				}
				var apiErr *Error
				if errors.As(err, &apiErr) {
					t.Errorf("a bad success body gave an *Error: %v", apiErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.wantToken, got); diff != "" {
					t.Errorf("token (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"  a \n\t b  ", 10, "a b"},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefghij..."},
		{"ééééé", 5, "éé..."},
		{"a\x00b\x7fc", 10, "a b c"},
		{"bad \xff utf8", 20, "bad utf8"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in, tt.max); got != tt.want {
			t.Errorf("sanitize(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// TestHostileResponses sends hostile answers over real HTTP: each must give
// a clear error naming the call, without a panic.
func TestHostileResponses(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		setup   func(c *Client)
		wantErr string // a part of the error
		maxLen  int    // when not 0, the error must be at most this long
	}{
		{
			name:    "malformed JSON",
			handler: func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, 200, "application/json", `{"id": }`) },
			wantErr: "GET /organizations/o/tokens/t: decode response: invalid character '}'",
		},
		{
			name: "truncated JSON",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeRaw(w, 200, "application/json", `{"id": "t", "roles": [`)
			},
			wantErr: "GET /organizations/o/tokens/t: decode response: unexpected end of JSON input",
		},
		{
			name: "body shorter than its Content-Length",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", "1000")
				writeRaw(w, 200, "application/json", `{"id":"t"`)
			},
			wantErr: "GET /organizations/o/tokens/t: read response body: unexpected EOF (gave up after 3 attempts)",
		},
		{
			name: "HTML error page from a proxy",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeRaw(w, 502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><script>x()</script></body></html>")
			},
			wantErr: "GET /organizations/o/tokens/t: 502 Bad Gateway: 502 Bad Gateway Bad Gateway x() (gave up after 3 attempts)",
		},
		{
			name:    "wrong content type",
			handler: func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, 200, "text/plain", `{"id":"t"}`) },
			wantErr: `GET /organizations/o/tokens/t: 200 OK with content type "text/plain", want application/json`,
		},
		{
			name:    "200 with an empty body",
			handler: func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, 200, "application/json", "") },
			wantErr: "GET /organizations/o/tokens/t: 200 OK with an empty body",
		},
		{
			name: "huge success body",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"id":"`+strings.Repeat("x", 1<<20)+`"}`)
			},
			setup:   func(c *Client) { c.maxSuccessBody = 64 << 10 },
			wantErr: "GET /organizations/o/tokens/t: response body larger than the 64 KiB limit",
		},
		{
			name: "huge error body",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeRaw(w, 500, "text/plain", strings.Repeat("error ", 2<<20))
			},
			wantErr: "GET /organizations/o/tokens/t: 500 Internal Server Error: error error",
			maxLen:  300,
		},
		{
			name: "huge API error message",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 400, ErrorBody{Message: strings.Repeat("m", 10000), RequestID: "r"})
			},
			wantErr: "GET /organizations/o/tokens/t: 400 Bad Request: mmm",
			maxLen:  1200,
		},
		{
			name:    "201 Created",
			handler: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 201, Token{ID: "t"}) },
			wantErr: "GET /organizations/o/tokens/t: 201 Created",
		},
		{
			name:    "304 Not Modified",
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(304) },
			wantErr: "GET /organizations/o/tokens/t: 304 Not Modified",
		},
		{
			name: "unparsable time",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeRaw(w, 200, "application/json", `{"id":"t","roles":null,"createdAt":"yesterday"}`)
			},
			wantErr: `GET /organizations/o/tokens/t: decode response: parsing time "yesterday"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) { tt.handler(w, r) })
			c := newTestClient(t, ts, WithMaxRetries(2))
			if tt.setup != nil {
				tt.setup(c)
			}
			got, err := c.Token(t.Context(), "o", "t")
			if err == nil {
				t.Fatalf("Token = %+v, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if tt.maxLen > 0 && len(err.Error()) > tt.maxLen {
				t.Errorf("error is %d bytes long, want at most %d", len(err.Error()), tt.maxLen)
			}
			if diff := cmp.Diff(Token{}, got); diff != "" {
				t.Errorf("a failed call returned a partial token (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDecode checks that decoding any response never panics, that every
// status but 200 and 204 gives an *Error with that status, and that error
// text stays printable and bounded.
func FuzzDecode(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"id":"t","roles":[{"entityId":"d","entityType":"DEPLOYMENT","role":"DEPLOYMENT_ADMIN"}]}`))
	f.Add(200, "application/json", []byte(`{"tokens":[{"id":"t"}],"totalCount":1}`))
	f.Add(200, "application/json", []byte(`{"id":`))
	f.Add(200, "text/html", []byte(`<html>login</html>`))
	f.Add(200, "", []byte(``))
	f.Add(204, "", []byte(`ignored`))
	f.Add(404, "application/json", []byte(`{"message":"not found","requestId":"r","statusCode":404}`))
	f.Add(400, "application/json", []byte(`{"message":"bad","fieldErrors":[{"field":"f","code":"c","message":"m"}]}`))
	f.Add(502, "text/html", []byte("<html><h1>502 Bad Gateway</h1></html>"))
	f.Add(500, "application/json", []byte("{\"message\":\"\\u001b[31m\\n\"}"))
	f.Add(-1, "application/json; charset=\x00", []byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		header := http.Header{"Content-Type": {contentType}}
		var tok Token
		err := decodeResponse("GET", "/organizations/o/tokens/t", status, header, body, &tok, "")
		var env map[string]json.RawMessage
		err2 := decodeResponse("GET", "/organizations/o/tokens", status, header, body, &env, "")
		if (err == nil) != (err2 == nil) && status != 200 {
			t.Fatalf("status %d: decoding into two types disagrees: %v / %v", status, err, err2)
		}
		if status == 200 || status == 204 {
			var apiErr *Error
			if errors.As(err, &apiErr) {
				t.Fatalf("status %d gave an *Error: %v", status, err)
			}
			if status == 200 && err == nil && !json.Valid(body) {
				t.Fatalf("invalid JSON %q accepted", body)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "GET /organizations/o/tokens/t: ") {
				t.Fatalf("error %q does not name the call", err)
			}
			return
		}
		var apiErr *Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("status %d gave %v, want an *Error", status, err)
		}
		if apiErr.StatusCode != status || apiErr.Method != "GET" || apiErr.Path != "/organizations/o/tokens/t" {
			t.Fatalf("*Error %+v does not match the response", apiErr)
		}
		msg := apiErr.Error()
		if !strings.HasPrefix(msg, "GET /organizations/o/tokens/t: ") {
			t.Fatalf("error %q does not name the call", msg)
		}
		for _, s := range []string{apiErr.Message, apiErr.RequestID} {
			if len(s) > maxMessageLen+3 {
				t.Fatalf("text of %d bytes is not bounded", len(s))
			}
			if strings.ContainsFunc(s, unicode.IsControl) {
				t.Fatalf("text %q holds control characters", s)
			}
		}
		if strings.ContainsFunc(msg, unicode.IsControl) {
			t.Fatalf("error %q holds control characters", msg)
		}
	})
}

// TestErrorBodyReadIsBounded checks that the client stops reading an error
// body after maxErrorBody bytes: the server tries to send 128 MiB and must
// manage far less before the client hangs up.
func TestErrorBodyReadIsBounded(t *testing.T) {
	const offered = 128 << 20
	written := make(chan int, 1)
	ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(500)
		chunk := []byte(strings.Repeat("x", 32<<10))
		n := 0
		for n < offered {
			m, err := w.Write(chunk)
			n += m
			if err != nil {
				break
			}
		}
		written <- n
	})
	c := newTestClient(t, ts)
	_, err := c.Token(t.Context(), "o", "t")
	if err == nil || !strings.HasPrefix(err.Error(), "GET /organizations/o/tokens/t: 500 Internal Server Error: xxx") {
		t.Fatalf("error = %.200v, want a 500 *Error", err)
	}
	if n := <-written; n >= offered/4 {
		t.Errorf("the server wrote %d bytes of an error body before the client hung up, want far less than %d", n, offered)
	}
}
