package sync

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/spec"
)

func wt(line int, name, role string) spec.TokenEntry {
	return spec.TokenEntry{Pos: at(line), Name: name, Role: role, State: spec.Present}
}

func wtID(line int, id, role string) spec.TokenEntry {
	return spec.TokenEntry{Pos: at(line), ID: id, Role: role, State: spec.Present}
}

func prod(tokens ...spec.TokenEntry) spec.Deployment {
	return spec.Deployment{Pos: at(10), ID: "dep-prod", WorkspaceTokens: tokens}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		spec spec.Spec
		want []string
	}{
		{
			name: "ambiguous token name",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "dup-bot", "DEPLOYMENT_ADMIN"))}},
			want: []string{`tokens.yaml:11:7: token name "dup-bot" is ambiguous: clxtok1, clxtok2 (use id)`},
		},
		{
			name: "unknown token by name and by id",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "nobody", "DEPLOYMENT_ADMIN"), wtID(12, "clxnope", "DEPLOYMENT_ADMIN"))}},
			want: []string{
				`tokens.yaml:11:7: token "nobody" not found among the workspace tokens of workspace "data-platform"`,
				`tokens.yaml:12:7: token "clxnope" not found`,
			},
		},
		{
			name: "a long name is quoted as an excerpt",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, strings.Repeat("secret-", 40), "DEPLOYMENT_ADMIN"))}},
			want: []string{`tokens.yaml:11:7: token "secret-secret-secret-secret-secret-secre..." not found among the workspace tokens of workspace "data-platform"`},
		},
		{
			name: "workspace token of another workspace",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "ml-bot", "DEPLOYMENT_ADMIN"))}},
			want: []string{`tokens.yaml:11:7: token "ml-bot" belongs to workspace "ml" and cannot have a role on deployment "analytics-prod" of workspace "data-platform"`},
		},
		{
			name: "organization token under workspaceTokens",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "org-observer", "DEPLOYMENT_ADMIN"))}},
			want: []string{`tokens.yaml:11:7: token "org-observer" is an organization token: list it under organizationTokens`},
		},
		{
			name: "workspace token under organizationTokens",
			spec: spec.Spec{Deployments: []spec.Deployment{{
				Pos: at(10), ID: "dep-prod",
				OrganizationTokens: []spec.TokenEntry{wt(11, "ci-deployer", "DEPLOYMENT_ADMIN")},
			}}},
			want: []string{`tokens.yaml:11:7: token "ci-deployer" is a workspace token: list it under workspaceTokens`},
		},
		{
			name: "deployment token",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "deploy-bot", "DEPLOYMENT_ADMIN"))}},
			want: []string{`tokens.yaml:11:7: token "deploy-bot" is a deployment API token: deployment tokens cannot be managed`},
		},
		{
			name: "unknown roles, with and without a suggestion",
			spec: spec.Spec{Deployments: []spec.Deployment{
				prod(wt(11, "ci-deployer", "DEPLOYMENT_ADMN")),
				{Pos: at(20), ID: "dep-stg", WorkspaceTokens: []spec.TokenEntry{wt(21, "ci-deployer", "dag_deployr")}},
				{Pos: at(30), ID: "dep-ml", WorkspaceTokens: []spec.TokenEntry{wt(31, "ml-bot", "OWNER_OF_EVERYTHING")}},
			}},
			want: []string{
				`tokens.yaml:11:7: token "ci-deployer": unknown role "DEPLOYMENT_ADMN" (did you mean "DEPLOYMENT_ADMIN"?)`,
				`tokens.yaml:21:7: token "ci-deployer": unknown role "dag_deployr" (did you mean "DAG_DEPLOYER"?)`,
				`tokens.yaml:31:7: token "ml-bot": unknown role "OWNER_OF_EVERYTHING"`,
			},
		},
		{
			name: "custom role restricted to other workspaces",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "ci-deployer", "ML_Operator"))}},
			want: []string{`tokens.yaml:11:7: token "ci-deployer": role "ML_Operator" is not allowed in workspace "data-platform" of deployment "analytics-prod"`},
		},
		{
			name: "roles that are not deployment roles",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "ci-deployer", "WS_VIEWER"), wtID(12, "clxtok1", "WORKSPACE_OWNER"))}},
			want: []string{
				`tokens.yaml:11:7: token "ci-deployer": role "WS_VIEWER" is a workspace role, not a deployment role`,
				`tokens.yaml:12:7: token "clxtok1": role "WORKSPACE_OWNER" is a workspace role, not a deployment role`,
			},
		},
		{
			name: "deployment by name with an unknown workspace",
			spec: spec.Spec{Deployments: []spec.Deployment{{Pos: at(10), Name: "analytics-prod", Workspace: "data-platfrom"}}},
			want: []string{`tokens.yaml:10:7: deployment "analytics-prod": workspace "data-platfrom" not found (did you mean "data-platform"?)`},
		},
		{
			name: "deployment by name with an ambiguous workspace",
			spec: spec.Spec{Deployments: []spec.Deployment{{Pos: at(10), Name: "analytics-prod", Workspace: "dup"}}},
			want: []string{`tokens.yaml:10:7: deployment "analytics-prod": workspace name "dup" is ambiguous: ws-dup1, ws-dup2 (use id)`},
		},
		{
			name: "deployment name in the wrong workspace",
			spec: spec.Spec{Deployments: []spec.Deployment{{Pos: at(10), Name: "training", Workspace: "data-platform"}}},
			want: []string{`tokens.yaml:10:7: deployment "training" not found in workspace "data-platform" (found in workspace "ml")`},
		},
		{
			name: "unknown deployment by name and by id",
			spec: spec.Spec{Deployments: []spec.Deployment{
				{Pos: at(10), Name: "nope", Workspace: "ws-data"},
				{Pos: at(20), ID: "clvdnope"},
			}},
			want: []string{
				`tokens.yaml:10:7: deployment "nope" not found in workspace "data-platform"`,
				`tokens.yaml:20:7: deployment "clvdnope" not found`,
			},
		},
		{
			name: "ambiguous deployment name",
			spec: spec.Spec{Deployments: []spec.Deployment{{Pos: at(10), Name: "twin", Workspace: "data-platform"}}},
			want: []string{`tokens.yaml:10:7: deployment name "twin" is ambiguous in workspace "data-platform": dep-twin1, dep-twin2 (use id)`},
		},
		{
			name: "deployment listed by id and by name",
			spec: spec.Spec{Deployments: []spec.Deployment{
				{Pos: at(10), ID: "dep-prod"},
				{Pos: at(20), Name: "analytics-prod", Workspace: "ws-data"},
			}},
			want: []string{`tokens.yaml:20:7: deployment "analytics-prod" (dep-prod) is already listed at tokens.yaml:10:7`},
		},
		{
			name: "token listed by id and by name",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "ci-deployer", "DEPLOYMENT_ADMIN"), wtID(12, "tok-ci", "DAG_DEPLOYER"))}},
			want: []string{`tokens.yaml:12:7: token "ci-deployer" (tok-ci) is listed twice for deployment "analytics-prod" (also at tokens.yaml:11:7)`},
		},
		{
			name: "ignored token listed",
			spec: spec.Spec{
				IgnoreTokens: []spec.Pattern{{Glob: "break-glass-*", Pos: at(3)}},
				Deployments: []spec.Deployment{{
					Pos: at(10), ID: "dep-prod",
					OrganizationTokens: []spec.TokenEntry{wt(11, "break-glass-1", "DEPLOYMENT_ADMIN")},
				}},
			},
			want: []string{`tokens.yaml:11:7: token "break-glass-1" matches ignoreTokens "break-glass-*": remove it from the spec or from ignoreTokens`},
		},
		{
			name: "bad ignoreTokens pattern",
			spec: spec.Spec{IgnoreTokens: []spec.Pattern{{Glob: "[bad", Pos: at(3)}}},
			want: []string{`tokens.yaml:3:7: invalid ignoreTokens pattern "[bad": a character class ([...]) is not closed`},
		},
		{
			name: "all errors at once, sorted by position, tokens checked under an unknown deployment",
			spec: spec.Spec{Deployments: []spec.Deployment{
				{Pos: at(30), ID: "clvdnope", WorkspaceTokens: []spec.TokenEntry{wt(31, "dup-bot", "DEPLOYMENT_ADMIN")}},
				prod(wt(11, "ci-deployer", "DEPLOYMENT_ADMN"), wt(12, "deploy-bot", "DEPLOYMENT_ADMIN")),
			}},
			want: []string{
				`tokens.yaml:11:7: token "ci-deployer": unknown role "DEPLOYMENT_ADMN" (did you mean "DEPLOYMENT_ADMIN"?)`,
				`tokens.yaml:12:7: token "deploy-bot" is a deployment API token: deployment tokens cannot be managed`,
				`tokens.yaml:30:7: deployment "clvdnope" not found`,
				`tokens.yaml:31:7: token name "dup-bot" is ambiguous: clxtok1, clxtok2 (use id)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := fixture()
			d, err := Resolve(&tt.spec, obs)
			var list spec.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Resolve error = %v (%T), want a spec.ErrorList", err, err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(Desired{}, d); diff != "" {
				t.Errorf("Desired on error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(fixture(), obs, cmp.AllowUnexported(Subject{})); diff != "" {
				t.Errorf("Resolve modified Observed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	sp := spec.Spec{
		IgnoreTokens: []spec.Pattern{{Glob: "break-glass-*", Pos: at(2)}},
		Deployments: []spec.Deployment{
			{
				Pos: at(10), ID: "dep-prod", Prune: true,
				WorkspaceTokens: []spec.TokenEntry{
					wt(11, "ci-deployer", "deployment_admin"),
					{Pos: at(12), ID: "clxtok1", State: spec.Absent},
				},
				OrganizationTokens: []spec.TokenEntry{wt(13, "org-observer", "DAG_DEPLOYER")},
			},
			{
				Pos: at(20), Name: "training", Workspace: "ml", AllowEmpty: true,
				WorkspaceTokens: []spec.TokenEntry{wt(21, "ml-bot", "ML_Operator")},
			},
			{Pos: at(30), Name: "analytics-staging", Workspace: "ws-data"},
		},
	}
	want := Desired{
		Ignore: ignoreTokens("break-glass-*"),
		Workspaces: map[string]string{
			"dep-ml": "ws-ml", "dep-prod": "ws-data", "dep-stg": "ws-data", "dep-twin1": "ws-data", "dep-twin2": "ws-data",
		},
		Scopes: []ManagedScope{
			{
				ScopeRef:    ScopeRef{Level: LevelDeployment, ID: "dep-prod", Name: "analytics-prod"},
				WorkspaceID: "ws-data",
				Prune:       true,
				Source:      at(10),
				Lists:       tokenKindsListed,
				Assignments: []DesiredAssignment{
					{Subject: SubjectRef{Kind: KindWorkspaceToken, ID: "tok-ci", Name: "ci-deployer"}, Role: "DEPLOYMENT_ADMIN", Source: at(11)},
					{Subject: SubjectRef{Kind: KindWorkspaceToken, ID: "clxtok1", Name: "dup-bot"}, Absent: true, Source: at(12)},
					{Subject: SubjectRef{Kind: KindOrganizationToken, ID: "tok-org", Name: "org-observer"}, Role: "DAG_DEPLOYER", Source: at(13)},
				},
			},
			{
				ScopeRef:    ScopeRef{Level: LevelDeployment, ID: "dep-ml", Name: "training"},
				WorkspaceID: "ws-ml",
				AllowEmpty:  true,
				Source:      at(20),
				Lists:       []Kind{KindWorkspaceToken},
				Assignments: []DesiredAssignment{
					{Subject: SubjectRef{Kind: KindWorkspaceToken, ID: "tok-ml", Name: "ml-bot"}, Role: "ML_Operator", Source: at(21)},
				},
			},
			{ScopeRef: ScopeRef{Level: LevelDeployment, ID: "dep-stg", Name: "analytics-staging"}, WorkspaceID: "ws-data", Source: at(30)},
		},
	}
	got, err := Resolve(&sp, fixture())
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
}

func TestSuggest(t *testing.T) {
	candidates := []string{"DEPLOYMENT_ADMIN", "DAG_DEPLOYER", "DAG_VIEWER"}
	tests := []struct{ in, want string }{
		{"DEPLOYMENT_ADMN", "DEPLOYMENT_ADMIN"},
		{"DEPLOYMENTADMIN", "DEPLOYMENT_ADMIN"},
		{"DAG_VIEWR", "DAG_VIEWER"},
		{"DAG_DEPLOY", "DAG_DEPLOYER"},
		{"XYZ", ""},
		{"OPERATOR", ""},
	}
	for _, tt := range tests {
		if got := spec.Suggest(tt.in, candidates); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// scoped is an organization where names repeat across scopes, as Astro
// allows: a "reader" workspace token in two workspaces and an organization
// token "reader", twin names inside one workspace, and a "writer" only in
// workspace ml.
func scoped() *Observed {
	obs := fixture()
	obs.Subjects = append(obs.Subjects, convert([]astroapi.Token{
		token("tok-rd-data", "reader", "WORKSPACE", wsRole("ws-data", "WORKSPACE_MEMBER")),
		token("tok-rd-ml", "reader", "WORKSPACE", wsRole("ws-ml", "WORKSPACE_MEMBER"), depRole("dep-ml", "DEPLOYMENT_ADMIN")),
		token("tok-rd-org", "reader", "ORGANIZATION", orgRole("ORGANIZATION_MEMBER")),
		token("tok-tw1", "twin-bot", "WORKSPACE", wsRole("ws-ml", "WORKSPACE_MEMBER")),
		token("tok-tw2", "twin-bot", "WORKSPACE", wsRole("ws-ml", "WORKSPACE_MEMBER")),
		token("tok-wr-ml", "writer", "WORKSPACE", wsRole("ws-ml", "WORKSPACE_MEMBER")),
		token("tok-wr-org", "writer", "ORGANIZATION", orgRole("ORGANIZATION_MEMBER")),
	}, TokenSubject)...)
	return obs
}

// TestResolveScope checks that names resolve where Astro scopes them: a
// workspaceTokens name among the workspace tokens of the deployment's
// workspace, an organizationTokens name among organization tokens.
func TestResolveScope(t *testing.T) {
	ml := func(ws, org []spec.TokenEntry) spec.Deployment {
		return spec.Deployment{Pos: at(20), Name: "training", Workspace: "ml", WorkspaceTokens: ws, OrganizationTokens: org}
	}
	ab := func(line int, name string) spec.TokenEntry {
		return spec.TokenEntry{Pos: at(line), Name: name, State: spec.Absent}
	}
	tests := []struct {
		name      string
		spec      spec.Spec
		want      map[string][]string // deployment id → token ids, in spec order
		wantErrs  []string
		wantNotes []string
	}{
		{
			name: "the same name in two workspaces and in the organization",
			spec: spec.Spec{Deployments: []spec.Deployment{
				prod(wt(11, "reader", "DEPLOYMENT_ADMIN")),
				ml([]spec.TokenEntry{wt(21, "reader", "DEPLOYMENT_ADMIN")}, []spec.TokenEntry{wt(22, "reader", "DEPLOYMENT_ADMIN")}),
			}},
			want: map[string][]string{"dep-prod": {"tok-rd-data"}, "dep-ml": {"tok-rd-ml", "tok-rd-org"}},
		},
		{
			name: "a name of another scope only",
			spec: spec.Spec{Deployments: []spec.Deployment{prod(wt(11, "writer", "DEPLOYMENT_ADMIN"))}},
			wantErrs: []string{
				`tokens.yaml:11:7: token "writer" not found among the workspace tokens of workspace "data-platform" (tokens of that name: tok-wr-ml (workspace "ml"), tok-wr-org (organization token))`,
			},
		},
		{
			name:     "ambiguous within the workspace",
			spec:     spec.Spec{Deployments: []spec.Deployment{ml([]spec.TokenEntry{wt(21, "twin-bot", "DEPLOYMENT_ADMIN")}, nil)}},
			wantErrs: []string{`tokens.yaml:21:7: token name "twin-bot" is ambiguous: tok-tw1, tok-tw2 (use id)`},
		},
		{
			name: "did you mean, from the same scope",
			spec: spec.Spec{Deployments: []spec.Deployment{
				prod(wt(11, "readr", "DEPLOYMENT_ADMIN"), wt(12, "writr", "DEPLOYMENT_ADMIN")),
				ml(nil, []spec.TokenEntry{wt(21, "org-observr", "DEPLOYMENT_ADMIN")}),
			}},
			wantErrs: []string{
				`tokens.yaml:11:7: token "readr" not found among the workspace tokens of workspace "data-platform" (did you mean "reader"?)`,
				`tokens.yaml:12:7: token "writr" not found among the workspace tokens of workspace "data-platform"`,
				`tokens.yaml:21:7: token "org-observr" not found among the organization tokens (did you mean "org-observer"?)`,
			},
		},
		{
			name: "state: absent of a token that no longer exists",
			spec: spec.Spec{Deployments: []spec.Deployment{
				prod(ab(11, "gone-bot"), spec.TokenEntry{Pos: at(12), ID: "clxgone", State: spec.Absent}, ab(13, "writer"), wt(14, "reader", "DEPLOYMENT_ADMIN"), ab(15, "readr")),
			}},
			want: map[string][]string{"dep-prod": {"tok-rd-data"}},
			wantNotes: []string{
				`tokens.yaml:11:7: token "gone-bot" not found among the workspace tokens of workspace "data-platform": state: absent is satisfied`,
				`tokens.yaml:12:7: token "clxgone" not found: state: absent is satisfied`,
				`tokens.yaml:13:7: token "writer" not found among the workspace tokens of workspace "data-platform": state: absent is satisfied`,
				// A misspelt name leaves the token it means: the note says so.
				`tokens.yaml:15:7: token "readr" not found among the workspace tokens of workspace "data-platform": state: absent is satisfied (did you mean "reader"?)`,
			},
		},
		{
			name: "deployment name within its workspace, with a suggestion",
			spec: spec.Spec{Deployments: []spec.Deployment{
				{Pos: at(10), Name: "analytics-prd", Workspace: "data-platform"},
				{Pos: at(20), Name: "trainin", Workspace: "data-platform"},
			}},
			wantErrs: []string{
				`tokens.yaml:10:7: deployment "analytics-prd" not found in workspace "data-platform" (did you mean "analytics-prod"?)`,
				`tokens.yaml:20:7: deployment "trainin" not found in workspace "data-platform"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Resolve(&tt.spec, scoped())
			var errs []string
			var list spec.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					errs = append(errs, e.Error())
				}
			} else if err != nil {
				t.Fatalf("Resolve error = %v (%T), want a spec.ErrorList", err, err)
			}
			if diff := cmp.Diff(tt.wantErrs, errs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			var got map[string][]string
			for _, md := range d.Scopes {
				if got == nil {
					got = map[string][]string{}
				}
				got[md.ID] = nil
				for _, a := range md.Assignments {
					got[md.ID] = append(got[md.ID], a.Subject.ID)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("assignments (-want +got):\n%s", diff)
			}
			var notes []string
			for _, n := range d.Notes {
				notes = append(notes, n.String())
			}
			if diff := cmp.Diff(tt.wantNotes, notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}
