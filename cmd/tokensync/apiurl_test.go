package main

import (
	"strings"
	"testing"
)

// TestAPIURLWithoutV1: a URL without a path is refused before any request;
// another path without /v1 is tried, and a 404 says which URL was meant. A
// scheme other than http and https is refused for its scheme alone, with
// no word of /v1.
func TestAPIURLWithoutV1(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	root := strings.TrimSuffix(c.baseURL, "/v1")
	tests := []struct {
		name     string
		url      string
		code     int
		want     string
		requests bool
		not      string
	}{
		{name: "no path", url: root, code: exitUsage, want: "--api-url " + root + " has no path; the Astro API is under /v1: did you mean " + root + "/v1?"},
		{name: "slash", url: root + "/", code: exitUsage, want: "did you mean " + root + "/v1?"},
		{name: "another path", url: root + "/api", code: exitError, want: "hint: the Astro API is under /v1: did you mean --api-url " + root + "/api/v1?", requests: true},
		{name: "v1 with a slash", url: root + "/v1/", code: exitOK, requests: true},
		{name: "ftp", url: "ftp://x", code: exitUsage, want: `tokensync: --api-url: astro api base url "ftp://x": scheme must be https`, not: "/v1"},
		{name: "ftp with a path", url: "ftp://x/api", code: exitUsage, want: `tokensync: --api-url: astro api base url "ftp://x/api": scheme must be https`, not: "/v1"},
		{name: "http off loopback", url: "http://api.example.invalid", code: exitUsage, want: `tokensync: --api-url: astro api base url "http://api.example.invalid": http is allowed only on loopback hosts; use https`, not: "/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.srv.ResetStats()
			r := c.runRaw("plan", "-f", f, "--api-url", tt.url, "--organization", "org1")
			wantCode(t, r, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if tt.not != "" && strings.Contains(r.stderr, tt.not) {
				t.Errorf("stderr says %q:\n%s", tt.not, r.stderr)
			}
			if got := c.requests() > 0; got != tt.requests {
				t.Errorf("requests made: %v, want %v", got, tt.requests)
			}
		})
	}
}

// TestExportWithoutOrganization: the organization cannot be found from an
// API token, so export without one names the flag and the variable and
// says why, before any request.
func TestExportWithoutOrganization(t *testing.T) {
	c := newCLI(t, testState)
	r := c.runRaw("export", "--api-url", c.baseURL)
	wantCode(t, r, exitUsage)
	for _, want := range []string{"ASTRO_ORGANIZATION_ID", "--organization", "lists organizations only for personal access tokens"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if c.requests() != 0 {
		t.Errorf("%d requests", c.requests())
	}
}
