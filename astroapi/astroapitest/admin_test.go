package astroapitest

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminEndpointsNeverAnswerSecrets uses the emulator with credentials,
// one of them also sent in the path of an unknown route, and checks that
// neither admin endpoint answers a secret.
func TestAdminEndpointsNeverAnswerSecrets(t *testing.T) {
	st := testState()
	st.Credentials = []Credential{{Secret: "s3cret-alpha"}, {Secret: "s3cret-beta", ReadOnly: true}}
	_, base := NewTestServer(t, st, Options{RateLimits: NoRateLimit})
	root := strings.TrimSuffix(base, "/v1")
	fetch(t, http.MethodGet, base+"/organizations/"+st.Organization.ID+"/tokens", "Bearer s3cret-alpha", "")
	fetch(t, http.MethodGet, base+"/s3cret-beta/tokens", "Bearer s3cret-beta", "")
	for _, path := range []string{"/_emulator/state", "/_emulator/stats"} {
		resp, raw := fetch(t, http.MethodGet, root+path, "", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
		}
		for _, secret := range []string{"s3cret-alpha", "s3cret-beta"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("GET %s answers the secret %q:\n%s", path, secret, raw)
			}
		}
	}
	// The secrets still work: only the admin answers leave them out.
	if resp, raw := fetch(t, http.MethodGet, base+"/organizations/"+st.Organization.ID+"/tokens", "Bearer s3cret-alpha", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET with a credential: %d %s", resp.StatusCode, raw)
	}
}
