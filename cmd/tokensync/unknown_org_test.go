package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
)

// TestUnknownOrganization: an organization the API answers 404 for is an
// unresolvable reference (exit 3), not a raw API error (exit 1): at its
// place in the spec when the spec named it, and naming the flag when
// --organization did; another 404 stays what it was.
func TestUnknownOrganization(t *testing.T) {
	c := newCLI(t, testState)
	c.env["GITHUB_ACTIONS"] = "true"
	wrong := c.write("wrong.yaml", "version: 1\norganization: org-typo\ndeployments:\n  - id: dep-a1\n    workspaceTokens: []\n")
	const msg = `organization "org-typo" not found, or not visible to this credential (the API answers 404, request `
	for _, cmd := range [][]string{{"validate"}, {"plan"}, {"apply", "--yes"}, {"report"}} {
		args := append([]string{cmd[0], "--api-url", c.baseURL, "-f", wrong}, cmd[1:]...)
		r := c.runRaw(args...)
		wantCode(t, r, exitInvalid)
		for _, w := range []string{
			wrong + ":2:15: " + msg,
			"::error file=" + annotationProperty(wrong) + ",line=2,col=15::" + msg,
			"tokensync: 1 error(s) in the spec against organization org-typo; nothing was written.\n",
		} {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd[0], w, r.stderr)
			}
		}
	}

	r := c.runRaw("export", "--api-url", c.baseURL, "--organization", "org-typo")
	wantCode(t, r, exitInvalid)
	if want := `tokensync: organization "org-typo" (--organization or ASTRO_ORGANIZATION_ID) not found, or not visible to this credential`; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("export: stderr does not start with %q:\n%s", want, r.stderr)
	}

	// The flag wins over the spec: the error names the flag, not the spec.
	r = c.runRaw("plan", "--api-url", c.baseURL, "--organization", "org-typo", "-f", c.write("ok.yaml", "version: 1\norganization: org1\ndeployments: []\n"))
	wantCode(t, r, exitInvalid)
	if !strings.Contains(r.stderr, "(--organization or ASTRO_ORGANIZATION_ID) not found") || strings.Contains(r.stderr, "ok.yaml:") {
		t.Errorf("plan --organization: stderr:\n%s", r.stderr)
	}
}

// TestOrganizationNotFoundIsTold: only the 404 of the organization itself
// is taken for an unknown organization.
func TestOrganizationNotFoundIsTold(t *testing.T) {
	for _, tt := range []struct {
		err  *astroapi.Error
		want bool
	}{
		{&astroapi.Error{Method: "GET", Path: "/organizations/o1/tokens", StatusCode: 404, Message: `organization "o1" not found`}, true},
		{&astroapi.Error{Method: "GET", Path: "/organizations/o1/tokens/t1", StatusCode: 404, Message: `token "t1" not found`}, false},
		{&astroapi.Error{Method: "GET", Path: "/organizations/o2/tokens", StatusCode: 404, Message: `organization "o2" not found`}, false},
		{&astroapi.Error{Method: "GET", Path: "/organizations/o1/tokens", StatusCode: 403, Message: `organization "o1" not found`}, false},
	} {
		if got := orgNotFound(fmt.Errorf("read: %w", tt.err), "o1"); got != tt.want {
			t.Errorf("%v: orgNotFound = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestUnknownOrganizationWhereTheCredentialShows: an organization id that
// holds the credential is shown redacted in the API's error, and still
// told for an unknown organization (exit 3), not a raw API error (exit 1).
func TestUnknownOrganizationWhereTheCredentialShows(t *testing.T) {
	c := newCLI(t, testState)
	ok := c.write("ok.yaml", "version: 1\ndeployments: []\n")
	for _, tt := range []struct{ credential, org, want string }{
		{"NOPE", "org-NOPE", `organization "org-[REDACTED]" (--organization or ASTRO_ORGANIZATION_ID) not found`},
		// Escaped in the request's path: redacted there too, in -v's log.
		{"c2VjcmV0/dG9r+ZW4=", "org-c2VjcmV0/dG9r+ZW4=", `organization "org-[REDACTED]" (--organization or ASTRO_ORGANIZATION_ID) not found`},
		{secret, "a b/c?d#e%f", `organization "a b/c?d#e%f" (--organization or ASTRO_ORGANIZATION_ID) not found`},
	} {
		c.env["ASTRO_API_TOKEN"] = tt.credential
		r := c.run("plan", "-v", "--organization", tt.org, "-f", ok)
		wantCode(t, r, exitInvalid)
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
		}
		if tt.credential != secret && strings.Contains(r.stderr, url.PathEscape(tt.credential)) {
			t.Errorf("stderr shows the credential, escaped:\n%s", r.stderr)
		}
	}
	c.env["ASTRO_API_TOKEN"] = secret
}
