package sync

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
)

// TestApplyStopsAtForbidden: a write refused with 403 says the credential
// may not write; no token starts after it, and the rest are not started
// (a 500 does not stop the others: TestApplyFailures).
func TestApplyStopsAtForbidden(t *testing.T) {
	p, s, _ := examplePlan(t)
	forbidden := &astroapi.Error{Method: "POST", Path: "/organizations/o/tokens/t-ci/roles", StatusCode: 403, Message: "this API token is read-only"}
	for id := range tokensOfPlan(p) {
		s.setErr[id] = forbidden
	}
	res := Apply(context.Background(), s.adapters(), p, ApplyOptions{Parallelism: 1})

	_, sets := s.calls()
	if diff := cmp.Diff(map[string]int{"t-ci": 1}, sets); diff != "" {
		t.Errorf("POSTs (-want +got):\n%s", diff)
	}
	if len(res.Written) != 0 || len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, astroapi.ErrForbidden) {
		t.Errorf("written %v, failed %v", ids2(res.Written), res.Failed)
	}
	if diff := cmp.Diff([]string{"t-obs", "t-old", "t-stray"}, ids2(res.NotStarted)); diff != "" {
		t.Errorf("NotStarted (-want +got):\n%s", diff)
	}
}

func tokensOfPlan(p Plan) map[string]bool {
	ids := map[string]bool{}
	for _, c := range p.Changes {
		ids[c.Subject.ID] = true
	}
	return ids
}
