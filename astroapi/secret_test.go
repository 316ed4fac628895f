package astroapi

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCredentialNeverLeaks drives every error path with a server that
// echoes the Authorization header back wherever it can, and checks that
// neither the errors nor the request log show the credential.
func TestCredentialNeverLeaks(t *testing.T) {
	echo := func(r *http.Request) string { return r.Header.Get("Authorization") }
	tests := []struct {
		name    string
		handler func(t *testing.T, w http.ResponseWriter, r *http.Request)
		opts    []Option
	}{
		{name: "401 echoing the header", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 401, ErrorBody{Message: "invalid credential " + echo(r), RequestID: "r"})
		}},
		{name: "403 with the credential as request id", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 403, ErrorBody{Message: "forbidden", RequestID: strings.TrimPrefix(echo(r), "Bearer ")})
		}},
		{name: "404 with field errors echoing it", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 404, ErrorBody{Message: "nope", FieldErrors: []FieldError{{Field: echo(r), Code: echo(r), Message: echo(r)}}})
		}},
		{name: "500 HTML echoing the header", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 500, "text/html", "<html><body><pre>Authorization: "+echo(r)+"</pre></body></html>")
		}},
		{name: "500 JSON echoing the header", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 500, ErrorBody{Message: "headers: Authorization=" + echo(r), RequestID: "r5"})
		}},
		{name: "503 echoing the header until the cap", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, 503, ErrorBody{Message: echo(r)})
		}},
		{name: "200 with the wrong content type echoing the header", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 200, "text/plain", echo(r))
		}},
		{name: "200 with the credential in the content type", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 200, "text/"+strings.TrimPrefix(echo(r), "Bearer "), "{}")
		}},
		{name: "200 with bad JSON echoing the header", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 200, "application/json", `{"id": "`+echo(r))
		}},
		{name: "transport error", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			hijack(t, w, func(net.Conn) {})
		}},
		{name: "timeout", opts: []Option{WithRequestTimeout(10 * time.Millisecond)}, handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}},
		{name: "redirect to a URL holding the credential", handler: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://evil.example/"+strings.TrimPrefix(echo(r), "Bearer ")+"?c="+echo(r), http.StatusFound)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := serve(t, func(w http.ResponseWriter, r *http.Request, _ request, _ int) { tt.handler(t, w, r) })
			var logs logCapture
			opts := append([]Option{WithMaxRetries(1), WithLogger(logs.logger())}, tt.opts...)
			c := newTestClient(t, ts, opts...)
			calls := map[string]func() error{
				"Token": func() error { _, err := c.Token(t.Context(), "o", "t"); return err },
				"Tokens": func() error {
					_, err := c.Tokens(t.Context(), "o", TokenFilter{})
					return err
				},
				"SetTokenRoles": func() error {
					_, err := c.SetTokenRoles(t.Context(), "o", "t", []Role{{EntityID: "w", EntityType: EntityWorkspace, Role: "WORKSPACE_MEMBER"}})
					return err
				},
			}
			for name, call := range calls {
				err := call()
				if err == nil {
					t.Fatalf("%s succeeded, want an error", name)
				}
				for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
					if s := fmt.Sprintf(format, err); strings.Contains(s, testSecret) {
						t.Errorf("%s: error printed with %s shows the credential: %s", name, format, s)
					}
				}
			}
			out := logs.text()
			if out == "" {
				t.Error("nothing was logged")
			}
			if strings.Contains(out, testSecret) {
				t.Errorf("the request log shows the credential:\n%s", out)
			}
		})
	}
}
