package main

import (
	"bufio"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"

	"github.com/tokensync/tokensync/astroapi/astroapitest"
)

// securitySecret is the credential of the security tests: no 8-byte piece
// of it may show in any output or file.
const securitySecret = "tsk_sec_7Hq2Zx9LmP4vR8wKc3Nf"

// leak returns the first 8-byte piece of securitySecret in s, or "".
func leak(s string) string {
	for i := 0; i+8 <= len(securitySecret); i++ {
		if strings.Contains(s, securitySecret[i:i+8]) {
			return securitySecret[i : i+8]
		}
	}
	return ""
}

// echoCredential is a hostile API that puts the Authorization header it
// got into its answer, where the client cuts text (at 1,024 bytes), and
// as request id.
func echoCredential(status int) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"message":"`+strings.Repeat("x", 990)+` you sent `+auth+`","requestId":"`+strings.TrimPrefix(auth, "Bearer ")+`","statusCode":0}`)
	}
}

// TestCredentialNeverShows runs every command with the credential and -v,
// on success and on failure (401, 403 and 500 from an API that echoes the
// credential back, an invalid spec, a stale plan), with the credential from
// ASTRO_API_TOKEN or --token-file: no piece of it shows on stdout, stderr
// or in any file tokensync wrote.
func TestCredentialNeverShows(t *testing.T) {
	const (
		mine     = "credentials: [{secret: " + securitySecret + "}]\n"
		other    = "credentials: [{secret: someone-else}]\n"
		readOnly = "credentials: [{secret: " + securitySecret + ", readOnly: true}]\n"
	)
	type step struct {
		args []string
		code int
	}
	tests := []struct {
		name  string
		creds string
		// api, when set, answers instead of the emulator: all requests, or
		// only writes when writesOnly.
		api        func(w http.ResponseWriter, r *http.Request)
		writesOnly bool
		tokenFile  bool
		steps      []step
	}{
		{name: "success", creds: mine, steps: []step{
			{[]string{"validate", "--offline", "-f", "{spec}", "-v"}, exitOK},
			{[]string{"validate", "-f", "{spec}", "-v"}, exitOK},
			{[]string{"export", "-v"}, exitOK},
			{[]string{"plan", "-f", "{spec}", "-v"}, exitOK},
			{[]string{"plan", "-f", "{spec}", "-v", "-o", "json"}, exitOK},
			{[]string{"plan", "-f", "{spec}", "-v", "-o", "markdown"}, exitOK},
			{[]string{"plan", "-f", "{spec}", "-v", "--out", "{dir}/plan.json"}, exitOK},
			{[]string{"apply", "-f", "{spec}", "-v", "--dry-run"}, exitOK},
			{[]string{"apply", "{dir}/plan.json", "-v", "--yes"}, exitOK},
			{[]string{"plan", "-f", "{spec}", "-v", "--detailed-exitcode"}, exitOK},
		}},
		{name: "success with --token-file", creds: mine, tokenFile: true, steps: []step{
			{[]string{"plan", "-f", "{spec}", "-v", "--out", "{dir}/plan.json"}, exitOK},
			{[]string{"apply", "-f", "{spec}", "-v", "--yes"}, exitOK},
			{[]string{"export", "-v"}, exitOK},
		}},
		{name: "a usage error quoting the credential", creds: mine, steps: []step{
			{[]string{"plan", "-f", "{spec}", "{secret}"}, exitUsage},
		}},
		{name: "a usage error quoting the credential of --token-file", creds: mine, tokenFile: true, steps: []step{
			{[]string{"plan", "-f", "{spec}", "{secret}"}, exitUsage},
		}},
		{name: "401 unknown credential", creds: other, steps: []step{
			{[]string{"validate", "-f", "{spec}", "-v"}, exitError},
			{[]string{"export", "-v"}, exitError},
			{[]string{"plan", "-f", "{spec}", "-v", "-o", "json", "--out", "{dir}/plan.json"}, exitError},
			{[]string{"apply", "-f", "{spec}", "-v", "--yes"}, exitError},
		}},
		{name: "401 echoing the credential", api: echoCredential(401), steps: []step{
			{[]string{"validate", "-f", "{spec}", "-v"}, exitError},
			{[]string{"export", "-v"}, exitError},
			{[]string{"plan", "-f", "{spec}", "-v", "-o", "markdown"}, exitError},
			{[]string{"apply", "-f", "{spec}", "-v", "--yes"}, exitError},
		}},
		{name: "403 read-only credential", creds: readOnly, steps: []step{
			{[]string{"apply", "-f", "{spec}", "-v", "--yes"}, exitError},
		}},
		{name: "403 echoing the credential on writes", api: echoCredential(403), writesOnly: true, steps: []step{
			{[]string{"plan", "-f", "{spec}", "-v", "--out", "{dir}/plan.json"}, exitOK},
			{[]string{"apply", "{dir}/plan.json", "-v", "--yes"}, exitError},
			{[]string{"apply", "-f", "{spec}", "-v", "--yes"}, exitError},
		}},
		{name: "500 echoing the credential", api: echoCredential(500), steps: []step{
			{[]string{"plan", "-f", "{spec}", "-v"}, exitError},
			{[]string{"export", "-v"}, exitError},
			{[]string{"apply", "-f", "{spec}", "-v", "--yes"}, exitError},
		}},
		{name: "invalid spec", creds: mine, steps: []step{
			{[]string{"plan", "-f", "{bad}", "-v"}, exitInvalid},
			{[]string{"apply", "-f", "{bad}", "-v", "--yes"}, exitInvalid},
			{[]string{"validate", "-f", "{bad}", "-v"}, exitInvalid},
		}},
		{name: "stale plan", creds: mine, steps: []step{
			{[]string{"plan", "-f", "{spec}", "-v", "--out", "{dir}/plan.json"}, exitOK},
			{[]string{"apply", "-f", "{spec}", "-v", "--yes"}, exitOK},
			{[]string{"apply", "{dir}/plan.json", "-v", "--yes"}, exitStale},
		}},
	}
	commands := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := astroapitest.ParseState("state.yaml", []byte(testState+tt.creds))
			if err != nil {
				t.Fatal(err)
			}
			srv := astroapitest.NewServer(st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
			var h http.Handler = srv
			if tt.api != nil {
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tt.writesOnly && r.Method == http.MethodGet {
						srv.ServeHTTP(w, r)
						return
					}
					tt.api(w, r)
				})
			}
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)
			c := &cli{t: t, srv: srv, baseURL: ts.URL + "/v1", dir: t.TempDir(), env: map[string]string{"ASTRO_API_TOKEN": securitySecret}, unpaced: true}
			var tokenFile []string
			if tt.tokenFile {
				c.env = map[string]string{}
				tokenFile = []string{"--token-file", c.write("token", securitySecret+"\n")}
			}
			spec := c.write("tokens.yaml", mainSpec)
			bad := c.write("bad.yaml", "version: 1\ndeployments:\n  - id: dep-a1\n    workspaceTokens:\n      - {name: ci, role: WORKSPACE_OWNER, colour: blue}\n")
			for _, s := range tt.steps {
				args := make([]string, len(s.args))
				for i, a := range s.args {
					args[i] = strings.NewReplacer("{spec}", spec, "{bad}", bad, "{dir}", c.dir, "{secret}", securitySecret).Replace(a)
				}
				r := c.runLocked(append(args, tokenFile...)...)
				if r.code != s.code {
					t.Errorf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", s.args, r.code, s.code, r.stdout, r.stderr)
				}
				for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
					if p := leak(out); p != "" {
						t.Errorf("%v: %s shows %q of the credential:\n%s", s.args, name, p, out)
					}
				}
				online := !strings.Contains(strings.Join(args, " "), "--offline") && s.code != exitInvalid && s.code != exitUsage
				if online && !strings.Contains(r.stderr, `msg="astro api request"`) {
					t.Errorf("%v: -v logged no request:\n%s", s.args, r.stderr)
				}
				commands[strings.Join(s.args[:min(len(s.args), 1)], " ")] = true
			}
			// Every file tokensync wrote (saved plans, temporary files).
			filepath.WalkDir(c.dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || filepath.Base(path) == "token" {
					return err
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Error(err)
				}
				if p := leak(string(b)); p != "" {
					t.Errorf("%s shows %q of the credential", path, p)
				}
				return nil
			})
		})
	}
	for _, cmd := range []string{"plan", "apply", "validate", "export"} {
		if !commands[cmd] {
			t.Errorf("command %s not run", cmd)
		}
	}
}

// TestCredentialOnlyFromEnvironmentOrFile: no flag takes the credential (a
// flag value shows in ps and shell history), TOKENSYNC_TOKEN is not read,
// --token-file wins over ASTRO_API_TOKEN, and a token file others may read
// draws a warning.
func TestCredentialOnlyFromEnvironmentOrFile(t *testing.T) {
	c := newCLI(t, testState+"credentials: [{secret: "+securitySecret+"}]\n")
	spec := c.write("tokens.yaml", mainSpec)
	for _, flag := range [][]string{{"--token", securitySecret}, {"--token=" + securitySecret}, {"--api-token", securitySecret}, {"--credential", securitySecret}} {
		c.env = map[string]string{"ASTRO_API_TOKEN": securitySecret}
		r := c.run(append([]string{"plan", "-f", spec}, flag...)...)
		wantCode(t, r, exitUsage)
		name, _, _ := strings.Cut(flag[0], "=")
		if !strings.HasPrefix(r.stderr, "tokensync: unknown flag "+name) {
			t.Errorf("%v: stderr:\n%s", flag, r.stderr)
		}
		if p := leak(r.stdout + r.stderr); p != "" {
			t.Errorf("%v: the refusal shows %q of the credential:\n%s", flag, p, r.stderr)
		}
	}
	if n := c.requests(); n != 0 {
		t.Errorf("%d requests for refused command lines", n)
	}

	c.env = map[string]string{"TOKENSYNC_TOKEN": securitySecret, "TOKENSYNC_API_TOKEN": securitySecret}
	r := c.run("plan", "-f", spec)
	wantCode(t, r, exitUsage)
	if r.stderr != "tokensync: no credential: ASTRO_API_TOKEN is unset or empty; set it, or give --token-file\n" {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	file := filepath.Join(c.dir, "token")
	for _, tc := range []struct {
		mode os.FileMode
		warn string // how the warning says the file is open; "" for none
	}{{0o600, ""}, {0o400, ""}, {0o640, "readable"}, {0o644, "readable"}, {0o604, "readable"}, {0o620, "writable"}, {0o602, "writable"}, {0o710, "executable"}, {0o660, "readable and writable"}, {0o677, "readable, writable and executable"}} {
		writeTestFile(t, file, securitySecret+"\n")
		if err := os.Chmod(file, tc.mode); err != nil {
			t.Fatal(err)
		}
		c.env = map[string]string{"ASTRO_API_TOKEN": "wrong-credential"}
		r := c.run("plan", "-f", spec, "--token-file", file)
		wantCode(t, r, exitOK) // the file, not the variable
		warned := strings.Contains(r.stderr, "warning: token file")
		warning := "warning: token file " + file + " is " + tc.warn + " by group or others (mode " + octal(tc.mode) + "); chmod 600 it\n"
		if tc.warn == "" && warned || tc.warn != "" && !strings.Contains(r.stderr, warning) {
			t.Errorf("mode %s: want warning %q:\n%s", octal(tc.mode), tc.warn, r.stderr)
		}
		os.Chmod(file, 0o600)
	}
}

func octal(m os.FileMode) string {
	const digits = "01234567"
	p := uint32(m.Perm())
	return string([]byte{'0', digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}

// TestPlainHTTPRefusedBeforeDialing: http:// to a host that is not
// loopback is refused before any connection, with the credential at hand.
// The process runs with a proxy that counts connections: an https URL to
// the same host reaches it, the http one never does.
func TestPlainHTTPRefusedBeforeDialing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var (
		conns atomic.Int32
		wg    gosync.WaitGroup
	)
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer conn.Close()
				// Refuse whatever is asked (a CONNECT for https).
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
					io.WriteString(conn, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
				}
			})
		}
	})
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { ln.Close() })

	bin := binDir(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "tokens.yaml")
	writeTestFile(t, spec, mainSpec)
	proxy := "http://" + ln.Addr().String()
	runWith := func(url string) (int, string) {
		cmd := exec.Command(filepath.Join(bin, "tokensync"), "plan", "-f", spec, "--api-url", url, "--organization", "org1", "--max-retries=0")
		cmd.Env = processEnv(bin, map[string]string{"ASTRO_API_TOKEN": securitySecret, "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy})
		out, err := cmd.CombinedOutput()
		if p := leak(string(out)); p != "" {
			t.Errorf("%s: output shows %q of the credential", url, p)
		}
		return exitCode(t, err), string(out)
	}

	code, out := runWith("http://api.tokensync.invalid/v1")
	if code != exitUsage || out != "tokensync: --api-url: astro api base url \"http://api.tokensync.invalid/v1\": http is allowed only on loopback hosts; use https\n" {
		t.Errorf("http: exit %d:\n%s", code, out)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("http to a non-loopback host made %d connection(s)", n)
	}
	code, out = runWith("https://api.tokensync.invalid/v1")
	if code != exitError {
		t.Errorf("https through a refusing proxy: exit %d:\n%s", code, out)
	}
	if n := conns.Load(); n == 0 {
		t.Errorf("the https run never reached the proxy: the http check proves nothing\n%s", out)
	}
}

// TestUntrustedCertificateRefused: a TLS API whose certificate the system
// does not trust is refused at the handshake, so not one request (nor the
// credential) reaches it, and the refusal is not retried.
func TestUntrustedCertificateRefused(t *testing.T) {
	st, err := astroapitest.ParseState("state.yaml", []byte(testState))
	if err != nil {
		t.Fatal(err)
	}
	srv := astroapitest.NewServer(st, astroapitest.Options{RateLimits: astroapitest.NoRateLimit})
	var requests atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		srv.ServeHTTP(w, r)
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	ts.StartTLS()
	t.Cleanup(ts.Close)
	c := &cli{t: t, srv: srv, baseURL: ts.URL + "/v1", dir: t.TempDir(), env: map[string]string{"ASTRO_API_TOKEN": securitySecret}}
	spec := c.write("tokens.yaml", mainSpec)
	for _, args := range [][]string{{"plan", "-f", spec, "-v"}, {"apply", "-f", spec, "--yes"}, {"export"}} {
		r := c.runLocked(args...)
		wantCode(t, r, exitError)
		if !strings.Contains(r.stderr, "tls: failed to verify certificate: x509: certificate signed by unknown authority") {
			t.Errorf("%v: stderr:\n%s", args, r.stderr)
		}
		if strings.Contains(r.stderr, "attempts)") {
			t.Errorf("%v: the certificate error was retried:\n%s", args, r.stderr)
		}
		if p := leak(r.stdout + r.stderr); p != "" {
			t.Errorf("%v: shows %q of the credential", args, p)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the untrusted server got %d requests", n)
	}
}
