package astroapitest

import (
	"net/http"
	"strings"
	gosync "sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// TestAfterRoleWriteLogsAppliedWrites: AfterRoleWrite sees every applied
// write with the list as stored (built-in names upper-cased), including a
// write whose response is then dropped, and no refused one.
func TestAfterRoleWriteLogsAppliedWrites(t *testing.T) {
	var (
		mu  gosync.Mutex
		log []string
	)
	record := func(id string, roles []astroapi.Role) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range roles {
			log = append(log, id+" "+r.EntityType+"/"+r.EntityID+"="+r.Role)
		}
		log = append(log, "--")
	}
	_, base := NewTestServer(t, testState(), Options{RateLimits: NoRateLimit, AfterRoleWrite: record})
	url := base + "/organizations/" + org + "/tokens/tok-ws-a/roles"
	resp, raw := fetch(t, http.MethodPost, url, bearer, rolesBody(wsRole("ws-a", "workspace_member"), depRole("dep-a2", "deployment_admin")))
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %d %s", resp.StatusCode, raw)
	}
	resp, raw = fetch(t, http.MethodPost, url, bearer, rolesBody(depRole("dep-a2", "DEPLOYMENT_ADMIN")))
	wantError(t, resp, raw, 400) // the token's own workspace role is missing

	// Every request faults; with this seed the first is a POST dropped
	// after the write was applied.
	dropped := testState()
	var droppedLog []string
	_, dbase := NewTestServer(t, dropped, Options{RateLimits: NoRateLimit, FaultRate: 1, FaultSeed: droppedAfterWriteSeed(t),
		AfterRoleWrite: func(id string, _ []astroapi.Role) {
			mu.Lock()
			defer mu.Unlock()
			droppedLog = append(droppedLog, id)
		}})
	req, err := http.NewRequest(http.MethodPost, dbase+"/organizations/"+org+"/tokens/tok-ws-b/roles", strings.NewReader(rolesBody(wsRole("ws-b", "WORKSPACE_MEMBER"))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the faulted POST got a response: %d", resp.StatusCode)
	}

	want := []string{"tok-ws-a WORKSPACE/ws-a=WORKSPACE_MEMBER", "tok-ws-a DEPLOYMENT/dep-a2=DEPLOYMENT_ADMIN", "--"}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("write log (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tok-ws-b"}, droppedLog); diff != "" {
		t.Errorf("write log of the dropped write (-want +got):\n%s", diff)
	}
}

// droppedAfterWriteSeed finds a FaultSeed whose first draw is a connection
// dropped after the write.
func droppedAfterWriteSeed(t *testing.T) int64 {
	t.Helper()
	for seed := int64(0); seed < 1000; seed++ {
		s := NewServer(testState(), Options{FaultRate: 1, FaultSeed: seed})
		if _, drop, after := s.drawFault(); drop && after {
			return seed
		}
	}
	t.Fatal("no seed drops after the write")
	return 0
}
