package astroapi

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
)

// TestHostileTokenAnswers covers the answers to GET /tokens/{id} that decode
// as JSON but are not about the token asked for. Apply rewrites a token's
// whole role list from this read, so trusting such an answer would drop every
// role tokensync does not manage.
func TestHostileTokenAnswers(t *testing.T) {
	for _, tt := range []struct {
		name, body, wantErr string
	}{
		{"null", `null`, `GET /organizations/o/tokens/t: the answer is about token "", not "t"`},
		{"empty object", `{}`, `GET /organizations/o/tokens/t: the answer is about token "", not "t"`},
		{"roles without an id", `{"roles":[{"entityId":"ws","entityType":"WORKSPACE","role":"WORKSPACE_MEMBER"}]}`, `GET /organizations/o/tokens/t: the answer is about token "", not "t"`},
		{"another token", `{"id":"other","roles":[]}`, `GET /organizations/o/tokens/t: the answer is about token "other", not "t"`},
		{"an id with control characters", `{"id":"x\u001b[2J\ny"}`, `GET /organizations/o/tokens/t: the answer is about token "x [2J y", not "t"`},
		{"a list envelope", `{"tokens":[{"id":"t"}],"totalCount":1}`, `GET /organizations/o/tokens/t: the answer is about token "", not "t"`},
		{"an array", `[{"id":"t"}]`, `GET /organizations/o/tokens/t: decode response: json: cannot unmarshal array`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
				writeRaw(w, 200, "application/json", tt.body)
			})
			c := newTestClient(t, ts)
			got, err := c.Token(t.Context(), "o", "t")
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Token = %+v, %v; want an error starting %q", got, err, tt.wantErr)
			}
			if got.ID != "" || got.Roles != nil {
				t.Errorf("a refused answer returned %+v", got)
			}
		})
	}
}

// TestHostileRoleWriteAnswers sends hostile answers to POST /tokens/{id}/roles,
// the one call that changes anything: each must end in an error naming the
// call, never a silent success, and the body must never go anywhere but the
// configured host.
func TestHostileRoleWriteAnswers(t *testing.T) {
	elsewhere, elsewhereRec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeJSON(w, 200, SubjectRoles{})
	})
	roles := []Role{{EntityID: "ws", EntityType: EntityWorkspace, Role: "WORKSPACE_MEMBER"}}
	const path = "POST /organizations/o/tokens/t/roles: "
	for _, tt := range []struct {
		name     string
		handler  func(w http.ResponseWriter, r *http.Request, n int)
		wantErr  string
		attempts int // requests the server must see
	}{
		{
			name: "malformed JSON",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeRaw(w, 200, "application/json", `{"deploymentRoles": [}`)
			},
			wantErr:  path + "decode response: invalid character '}' looking for beginning of value",
			attempts: 1,
		},
		{
			name:     "200 with an empty body",
			handler:  func(w http.ResponseWriter, _ *http.Request, _ int) { writeRaw(w, 200, "application/json", "") },
			wantErr:  path + "200 OK with an empty body",
			attempts: 1,
		},
		{
			name: "HTML login page with 200",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeRaw(w, 200, "text/html; charset=utf-8", "<html><body>Please <b>sign in</b></body></html>")
			},
			wantErr:  path + `200 OK with content type "text/html; charset=utf-8", want application/json: "Please sign in"`,
			attempts: 1,
		},
		{
			name: "truncated body, then a good answer",
			handler: func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 0 {
					w.Header().Set("Content-Length", "100")
					writeRaw(w, 200, "application/json", `{"deploymentRoles":`)
					return
				}
				writeJSON(w, 200, SubjectRoles{})
			},
			attempts: 2, // the write is idempotent: sent again
		},
		{
			name: "dropped connection, then a good answer",
			handler: func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 0 {
					hijack(t, w, func(net.Conn) {})
					return
				}
				writeJSON(w, 200, SubjectRoles{})
			},
			attempts: 2,
		},
		{
			name: "redirect to another host",
			handler: func(w http.ResponseWriter, r *http.Request, _ int) {
				http.Redirect(w, r, elsewhere.URL+"/v1/organizations/o/tokens/t/roles", http.StatusTemporaryRedirect)
			},
			wantErr:  path + "redirect to " + elsewhere.URL + "/v1/organizations/o/tokens/t/roles refused",
			attempts: 1,
		},
		{
			name: "HTML 503 from a proxy, every time",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeRaw(w, 503, "text/html", "<html><h1>503 Service Unavailable</h1></html>")
			},
			wantErr:  path + "503 Service Unavailable: 503 Service Unavailable (gave up after 3 attempts)",
			attempts: 3,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, n int) { tt.handler(w, r, n) })
			c := newTestClient(t, ts, WithMaxRetries(2))
			_, err := c.SetTokenRoles(t.Context(), "o", "t", roles)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("SetTokenRoles: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			reqs := rec.all()
			if len(reqs) != tt.attempts {
				t.Fatalf("server saw %d requests, want %d", len(reqs), tt.attempts)
			}
			for _, r := range reqs {
				if r.Body != `{"roles":[{"entityId":"ws","entityType":"WORKSPACE","role":"WORKSPACE_MEMBER"}]}` {
					t.Errorf("attempt sent body %q", r.Body)
				}
			}
		})
	}
	if n := elsewhereRec.count(); n != 0 {
		t.Errorf("the redirect target saw %d requests, want 0", n)
	}
}

// TestRoleWriteToServerThatNeverAnswers bounds a write to a server that
// accepts it and never answers: each attempt ends at the request timeout,
// and the (idempotent) write is tried again, then given up.
func TestRoleWriteToServerThatNeverAnswers(t *testing.T) {
	done := make(chan struct{})
	ts, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	t.Cleanup(func() { close(done) })
	c := newTestClient(t, ts, WithRequestTimeout(20*time.Millisecond), WithMaxRetries(1))
	start := time.Now()
	_, err := c.SetTokenRoles(t.Context(), "o", "t", []Role{{EntityID: "ws", EntityType: EntityWorkspace, Role: "WORKSPACE_MEMBER"}})
	const want = "POST /organizations/o/tokens/t/roles: no complete answer within 20ms (gave up after 2 attempts)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if n := rec.count(); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

// FuzzTokensList serves any page body to the tokens list over real HTTP:
// the client never panics, never loops past its page limit, and returns
// either tokens or an error naming the call, never both.
func FuzzTokensList(f *testing.F) {
	f.Add(`{"tokens":[{"id":"a"}],"totalCount":1}`, "application/json")
	f.Add(`{"tokens":[{"id":"a"}]}`, "application/json")
	f.Add(`{"tokens":null,"totalCount":null}`, "application/json")
	f.Add(`{"tokens":[],"totalCount":-5}`, "application/json")
	f.Add(`{"tokens":[{"id":"a","roles":[{"entityId":1}]}],"totalCount":1}`, "application/json")
	f.Add(`{"tokens":[{"id":"a"}],"totalCount":99999999999999999999}`, "application/json")
	f.Add(`<html>sign in</html>`, "text/html")
	f.Add(``, "application/json")
	f.Add("{\"tokens\":[{\"id\":\"\\u0000\"}]}", "application/problem+json")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		ts, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
			writeRaw(w, 200, contentType, body)
		})
		c := newTestClient(t, ts, WithMaxRetries(0))
		c.maxPages = 5
		got, err := c.Tokens(t.Context(), "o", TokenFilter{})
		if err != nil {
			if got != nil {
				t.Fatalf("tokens %v returned with error %v", got, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "GET /organizations/o/tokens: ") {
				t.Fatalf("error %q does not name the call", msg)
			}
			if strings.ContainsFunc(msg, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
				t.Fatalf("error %q holds control characters", msg)
			}
			var apiErr *Error
			if errors.As(err, &apiErr) {
				t.Fatalf("a 200 answer gave an *Error: %v", err)
			}
		}
		if n := rec.count(); n > 5 {
			t.Fatalf("%d requests for a list capped at 5 pages", n)
		}
	})
}

// TestCredentialCutByTruncationNeverLeaks: a server that echoes the
// credential where the client cuts long text (a message at the 1,024-byte
// cap, an HTML snippet at 200) must not get a piece of it printed either.
func TestCredentialCutByTruncationNeverLeaks(t *testing.T) {
	echo := func(r *http.Request) string { return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") }
	var handlers []func(w http.ResponseWriter, r *http.Request)
	for pad := maxMessageLen - len(testSecret) - 1; pad <= maxMessageLen; pad += 3 {
		handlers = append(handlers, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 401, ErrorBody{Message: strings.Repeat("m", pad) + echo(r), RequestID: strings.Repeat("r", pad) + echo(r)})
		})
	}
	for pad := maxSnippetLen - len(testSecret) - 1; pad <= maxSnippetLen; pad += 3 {
		handlers = append(handlers, func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 401, "text/html", "<p>"+strings.Repeat("h", pad)+echo(r)+"</p>")
		})
		handlers = append(handlers, func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 200, "text/html", "<p>"+strings.Repeat("h", pad)+echo(r)+"</p>")
		})
	}
	for i, h := range handlers {
		ts, _ := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) { h(w, r) })
		var logs logCapture
		c := newTestClient(t, ts, WithMaxRetries(0), WithLogger(logs.logger()))
		_, err := c.Token(t.Context(), "o", "t")
		if err == nil {
			t.Fatalf("handler %d: no error", i)
		}
		for _, s := range []string{err.Error(), logs.text()} {
			if piece := secretPiece(s, testSecret, 8); piece != "" {
				t.Errorf("handler %d: %q of the credential shows in %q", i, piece, s)
			}
		}
	}
}

// secretPiece returns the first piece of secret at least n bytes long that
// s contains, or "".
func secretPiece(s, secret string, n int) string {
	for i := 0; i+n <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+n]) {
			return secret[i : i+n]
		}
	}
	return ""
}
