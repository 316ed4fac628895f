package astroapitest

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

// handler answers one route; tokenID is "" on routes without one.
type handler func(c *call, tokenID string)

// route is one API path template and its handlers by method.
type route struct {
	template string
	methods  map[string]handler
}

var (
	routeTokens = &route{"/organizations/{organizationId}/tokens",
		map[string]handler{http.MethodGet: (*call).listTokens}}
	routeToken = &route{"/organizations/{organizationId}/tokens/{tokenId}",
		map[string]handler{http.MethodGet: (*call).getToken, http.MethodDelete: (*call).deleteToken, http.MethodPost: (*call).updateToken}}
	routeTokenRoles = &route{"/organizations/{organizationId}/tokens/{tokenId}/roles",
		map[string]handler{http.MethodPost: (*call).setRoles}}
	routeDeployments = &route{"/organizations/{organizationId}/deployments",
		map[string]handler{http.MethodGet: (*call).listDeployments}}
	routeWorkspaces = &route{"/organizations/{organizationId}/workspaces",
		map[string]handler{http.MethodGet: (*call).listWorkspaces}}
	routeRoles = &route{"/organizations/{organizationId}/roles",
		map[string]handler{http.MethodGet: (*call).listRoles}}
	routeRole = &route{"/organizations/{organizationId}/roles/{roleId}",
		map[string]handler{http.MethodGet: (*call).getRole}}
)

// match finds the route of an escaped request path under /v1, with its
// organization and token ids; rt is nil when no route matches.
func match(escaped string) (rt *route, org, tokenID string) {
	org, rest, ok := orgPath(escaped)
	if !ok {
		return nil, "", ""
	}
	if rt, id := matchOrganization(rest); rt != nil {
		return rt, org, id
	}
	if rt, id := matchSubjects(rest); rt != nil {
		return rt, org, id
	}
	return nil, "", ""
}

// orgPath splits an escaped path /v1/organizations/{org}/rest... into the
// organization and the unescaped segments after it (at least one); ok is
// false for any other path, or a segment that is empty or badly escaped.
func orgPath(escaped string) (org string, rest []string, ok bool) {
	segs := strings.Split(escaped, "/")
	if len(segs) < 5 || segs[0] != "" || segs[1] != "v1" || segs[2] != "organizations" {
		return "", nil, false
	}
	for i, seg := range segs[3:] {
		s, err := url.PathUnescape(seg)
		if err != nil || s == "" {
			return "", nil, false
		}
		segs[3+i] = s
	}
	return segs[3], segs[4:], true
}

// matchOrganization finds the route of the token, deployment, workspace
// and role paths of an organization, with the token id.
func matchOrganization(rest []string) (rt *route, tokenID string) {
	switch {
	case len(rest) == 1 && rest[0] == "tokens":
		return routeTokens, ""
	case len(rest) == 2 && rest[0] == "tokens":
		return routeToken, rest[1]
	case len(rest) == 3 && rest[0] == "tokens" && rest[2] == "roles":
		return routeTokenRoles, rest[1]
	case len(rest) == 1 && rest[0] == "deployments":
		return routeDeployments, ""
	case len(rest) == 1 && rest[0] == "workspaces":
		return routeWorkspaces, ""
	case len(rest) == 1 && rest[0] == "roles":
		return routeRoles, ""
	case len(rest) == 2 && rest[0] == "roles":
		return routeRole, rest[1]
	}
	return nil, ""
}

// List envelopes.
type (
	tokenList struct {
		Tokens     []astroapi.Token `json:"tokens"`
		TotalCount int              `json:"totalCount"`
		Offset     int              `json:"offset"`
		Limit      int              `json:"limit"`
	}
	deploymentList struct {
		Deployments []apiDeployment `json:"deployments"`
		TotalCount  int             `json:"totalCount"`
		Offset      int             `json:"offset"`
		Limit       int             `json:"limit"`
	}
	workspaceList struct {
		Workspaces []apiWorkspace `json:"workspaces"`
		TotalCount int            `json:"totalCount"`
		Offset     int            `json:"offset"`
		Limit      int            `json:"limit"`
	}
	roleList struct {
		Roles        []astroapi.CustomRole   `json:"roles"`
		DefaultRoles *[]astroapi.DefaultRole `json:"defaultRoles,omitempty"`
		TotalCount   int                     `json:"totalCount"`
		Offset       int                     `json:"offset"`
		Limit        int                     `json:"limit"`
	}
)

// apiDeployment is a Deployment with a few more of the real API's fields,
// so that clients meet fields they do not know.
type apiDeployment struct {
	astroapi.Deployment
	Type           string            `json:"type"`
	RuntimeVersion string            `json:"runtimeVersion"`
	IsCicdEnforced bool              `json:"isCicdEnforced"`
	WebServerURL   string            `json:"webServerUrl"`
	CreatedBy      *astroapi.Subject `json:"createdBy"`
	UpdatedBy      *astroapi.Subject `json:"updatedBy"`
}

// apiWorkspace is a Workspace with a few more of the real API's fields.
type apiWorkspace struct {
	astroapi.Workspace
	OrganizationName    string            `json:"organizationName"`
	CicdEnforcedDefault bool              `json:"cicdEnforcedDefault"`
	CreatedBy           *astroapi.Subject `json:"createdBy"`
	UpdatedBy           *astroapi.Subject `json:"updatedBy"`
}

// admin is the user who created everything in a state.
var admin = astroapi.Subject{
	ID:          "clx0user00000000000admin",
	SubjectType: "USER",
	Username:    "platform-admin@example.com",
	FullName:    "Platform Admin",
}

// defaultRoles are the built-in roles that GET /roles lists.
var defaultRoles = []astroapi.DefaultRole{
	{Name: astroapi.RoleOrganizationOwner, ScopeType: astroapi.ScopeOrganization, Description: "Full control of the organization.",
		Permissions: []string{"organization.get", "organization.update", "organization.apiTokens.get", "organization.apiTokens.update", "organization.billing.update"}},
	{Name: astroapi.RoleOrganizationBillingAdmin, ScopeType: astroapi.ScopeOrganization, Description: "Manages the organization's billing.",
		Permissions: []string{"organization.get", "organization.billing.get", "organization.billing.update"}},
	{Name: astroapi.RoleOrganizationMember, ScopeType: astroapi.ScopeOrganization, Description: "Reads the organization.",
		Permissions: []string{"organization.get"}},
	{Name: astroapi.RoleOrganizationObserveAdmin, ScopeType: astroapi.ScopeOrganization, Description: "Manages Astro Observe.",
		Permissions: []string{"organization.get", "organization.observe.get", "organization.observe.update"}},
	{Name: astroapi.RoleOrganizationObserveMember, ScopeType: astroapi.ScopeOrganization, Description: "Reads Astro Observe.",
		Permissions: []string{"organization.get", "organization.observe.get"}},
	{Name: astroapi.RoleWorkspaceOwner, ScopeType: astroapi.ScopeWorkspace, Description: "Full control of the workspace.",
		Permissions: []string{"workspace.get", "workspace.update", "workspace.apiTokens.get", "workspace.apiTokens.update", "workspace.deployments.create"}},
	{Name: astroapi.RoleWorkspaceOperator, ScopeType: astroapi.ScopeWorkspace, Description: "Manages the workspace's deployments.",
		Permissions: []string{"workspace.get", "workspace.deployments.create", "workspace.deployments.update"}},
	{Name: astroapi.RoleWorkspaceAuthor, ScopeType: astroapi.ScopeWorkspace, Description: "Deploys code to the workspace's deployments.",
		Permissions: []string{"workspace.get", "workspace.deployments.deploy"}},
	{Name: astroapi.RoleWorkspaceMember, ScopeType: astroapi.ScopeWorkspace, Description: "Reads the workspace.",
		Permissions: []string{"workspace.get"}},
	{Name: astroapi.RoleWorkspaceAccessor, ScopeType: astroapi.ScopeWorkspace, Description: "Sees that the workspace exists.",
		Permissions: []string{"workspace.get"}},
	{Name: astroapi.RoleDeploymentAdmin, ScopeType: astroapi.ScopeDeployment, Description: "Full control of the deployment.",
		Permissions: []string{"deployment.get", "deployment.update", "deployment.deploy", "deployment.apiTokens.update"}},
	{Name: astroapi.RoleDeploymentAccessor, ScopeType: astroapi.ScopeDeployment, Description: "Sees that the deployment exists.",
		Permissions: []string{"deployment.get"}},
	{Name: astroapi.RoleDAGViewer, ScopeType: astroapi.ScopeDAG, Description: "Reads the DAG and its runs.",
		Permissions: []string{"deployment.dags.get", "deployment.dagRuns.get"}},
	{Name: astroapi.RoleDAGAuthor, ScopeType: astroapi.ScopeDAG, Description: "Runs, clears and edits the DAG.",
		Permissions: []string{"deployment.dags.get", "deployment.dagRuns.get", "deployment.dagRuns.create", "deployment.dags.update"}},
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// token returns the token with id, or nil. s.mu must be held.
func (s *Server) token(id string) *Token {
	for i := range s.st.Tokens {
		if s.st.Tokens[i].ID == id {
			return &s.st.Tokens[i]
		}
	}
	return nil
}

// updatedAt is t's effective updatedAt. s.mu must be held.
func (s *Server) updatedAt(t *Token) time.Time {
	if !t.UpdatedAt.IsZero() {
		return t.UpdatedAt
	}
	return s.tokenMeta[t.ID].createdAt
}

// apiToken renders t as the API does. s.mu must be held.
func (s *Server) apiToken(t *Token) astroapi.Token {
	m := s.tokenMeta[t.ID]
	start := m.createdAt
	by := &admin
	if m.updatedBy != nil {
		by = m.updatedBy
	}
	if !t.StartAt.IsZero() {
		start = t.StartAt
	}
	kind := t.Kind
	if kind == "" {
		kind = astroapi.TokenStandard
	}
	end := t.EndAt
	if end.IsZero() && t.ExpiryPeriodInDays > 0 {
		end = start.AddDate(0, 0, t.ExpiryPeriodInDays)
	}
	createdBy, updatedBy := admin, *by
	return astroapi.Token{
		ID:                 t.ID,
		Name:               t.Name,
		Description:        t.Description,
		ShortToken:         hash(t.ID)[:7],
		Scope:              t.Scope,
		Kind:               kind,
		StartAt:            &start,
		EndAt:              timePtr(end),
		ExpiryPeriodInDays: t.ExpiryPeriodInDays,
		LastUsedAt:         timePtr(t.LastUsedAt),
		LastRotatedAt:      timePtr(t.LastRotatedAt),
		CreatedAt:          m.createdAt,
		UpdatedAt:          s.updatedAt(t),
		CreatedBy:          &createdBy,
		UpdatedBy:          &updatedBy,
		Roles:              append([]astroapi.Role{}, t.Roles...),
	}
}

// timePtr is nil for the zero time, which the API leaves out.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) tokenRow(t *Token) row {
	return row{id: t.ID, name: t.Name, description: t.Description,
		createdAt: s.tokenMeta[t.ID].createdAt, updatedAt: s.updatedAt(t)}
}

// ownWorkspace is the workspace a WORKSPACE or DEPLOYMENT token belongs
// to, "" for an ORGANIZATION token. s.mu must be held.
func (s *Server) ownWorkspace(t *Token) string {
	own, _ := ownEntity(s.idx, t.Scope, t.Roles)
	switch t.Scope {
	case astroapi.ScopeWorkspace:
		return own
	case astroapi.ScopeDeployment:
		if d := s.idx.deployments[own]; d != nil {
			return d.WorkspaceID
		}
	}
	return ""
}

// roleWorkspace is the workspace role r's entity lies in, "" for the
// organization.
func (s *Server) roleWorkspace(r astroapi.Role) string {
	if r.EntityType == astroapi.EntityWorkspace {
		return r.EntityID
	}
	if d := s.idx.deployments[deploymentOf(&r)]; d != nil {
		return d.WorkspaceID
	}
	return ""
}

// maySee reports whether the credential may read t: it holds a role in
// one of the credential's workspaces. s.mu must be held.
func (c *call) maySee(t *Token) bool {
	if !c.restricted() {
		return true
	}
	for _, r := range t.Roles {
		if ws := c.s.roleWorkspace(r); ws != "" && c.mayAccess(ws) {
			return true
		}
	}
	return false
}

// mayWrite reports whether the credential may change t: t belongs to one
// of its workspaces. s.mu must be held.
func (c *call) mayWrite(t *Token) bool {
	if !c.restricted() {
		return true
	}
	ws := c.s.ownWorkspace(t)
	return ws != "" && c.mayAccess(ws)
}

// subject is who the credential is, for updatedBy.
func (c *call) subject() *astroapi.Subject {
	if c.cred != nil && c.cred.TokenID != "" {
		name := ""
		if t := c.s.token(c.cred.TokenID); t != nil {
			name = t.Name
		}
		return &astroapi.Subject{ID: c.cred.TokenID, SubjectType: "SERVICEKEY", APITokenName: name}
	}
	return &astroapi.Subject{ID: "clx0emulatorclient000000", SubjectType: "SERVICEKEY", APITokenName: "emulator client"}
}

func (c *call) listTokens(string) {
	q := c.query("workspaceId", "deploymentId", "includeOnlyOrganizationTokens", "offset", "limit", "sorts")
	ws, dep := q.one("workspaceId"), q.one("deploymentId")
	onlyOrg := q.boolean("includeOnlyOrganizationTokens")
	offset, limit := q.page()
	keys := q.sorts("name", "description", "createdAt", "updatedAt", "tokenStartAt")
	if q.rejected(c) {
		return
	}
	if c.restricted() {
		var ok bool
		switch {
		case onlyOrg:
		case ws != "":
			ok = c.mayAccess(ws)
		case dep != "":
			d := c.s.idx.deployments[dep]
			ok = d != nil && c.mayAccess(d.WorkspaceID)
		}
		if !ok {
			c.forbidden("this API token may list only the tokens of its workspaces %s: filter by workspaceId", strings.Join(c.cred.WorkspaceIDs, ", "))
			return
		}
	}
	s := c.s
	s.mu.Lock()
	var items []listed[astroapi.Token]
	for i := range s.st.Tokens {
		t := &s.st.Tokens[i]
		if onlyOrg && t.Scope != astroapi.ScopeOrganization ||
			ws != "" && !holdsRole(t, func(r *astroapi.Role) bool { return r.EntityType == astroapi.EntityWorkspace && r.EntityID == ws }) ||
			dep != "" && !holdsRole(t, func(r *astroapi.Role) bool { return deploymentOf(r) == dep }) {
			continue
		}
		items = append(items, listed[astroapi.Token]{s.tokenRow(t), s.apiToken(t)})
	}
	s.mu.Unlock()
	c.reply(http.StatusOK, tokenList{
		Tokens:     paginate(items, keys, offset, limit, s.opts.MaxPageSize),
		TotalCount: len(items), Offset: offset, Limit: limit,
	})
}

func holdsRole(t *Token, f func(*astroapi.Role) bool) bool {
	for i := range t.Roles {
		if f(&t.Roles[i]) {
			return true
		}
	}
	return false
}

func (c *call) getToken(id string) {
	if c.noQuery() {
		return
	}
	s := c.s
	s.mu.Lock()
	t := s.token(id)
	switch {
	case t == nil:
		s.mu.Unlock()
		c.fail(http.StatusNotFound, fmt.Sprintf("token %q not found", id), nil)
	case !c.maySee(t):
		s.mu.Unlock()
		c.forbidden("this API token may not read token %q", id)
	default:
		v := s.apiToken(t)
		s.mu.Unlock()
		c.reply(http.StatusOK, v)
	}
}

func (c *call) deleteToken(id string) {
	if c.noQuery() || c.readOnly() {
		return
	}
	s := c.s
	s.mu.Lock()
	t := s.token(id)
	switch {
	case t == nil:
		s.mu.Unlock()
		c.fail(http.StatusNotFound, fmt.Sprintf("token %q not found", id), nil)
	case !c.mayWrite(t):
		s.mu.Unlock()
		c.forbidden("this API token may not delete token %q", id)
	default:
		s.st.Tokens = slices.DeleteFunc(s.st.Tokens, func(t Token) bool { return t.ID == id })
		delete(s.tokenMeta, id)
		if s.credentials != nil {
			// The token's own credentials go with it.
			s.st.Credentials = slices.DeleteFunc(s.st.Credentials, func(c Credential) bool { return c.TokenID == id })
			s.indexCredentials()
		}
		s.mu.Unlock()
		c.reply(http.StatusNoContent, nil)
	}
}

// setRoles replaces a token's whole role list.
func (c *call) setRoles(id string) {
	if c.noQuery() || c.readOnly() {
		return
	}
	s := c.s
	// check validates the request against the current state and, when
	// final, applies it; it answers and returns false when it fails.
	var roles, applied []astroapi.Role
	check := func(final bool) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.token(id)
		switch {
		case t == nil:
			c.fail(http.StatusNotFound, fmt.Sprintf("token %q not found", id), nil)
			return false
		case !c.mayWrite(t):
			c.forbidden("this API token may not update the roles of token %q", id)
			return false
		case roles == nil:
			return true
		}
		norm := slices.Clone(roles)
		if fe := s.checkTokenRoles(t, norm); len(fe) > 0 {
			c.fail(http.StatusBadRequest, fmt.Sprintf("invalid roles for token %q: %s", id, fe[0].Message), fe)
			return false
		}
		if final {
			s.applyRoles(t, norm, c.subject())
			s.stats.RoleWrites[id]++
			applied = slices.Clone(norm)
			c.reply(http.StatusOK, subjectRoles(norm))
		}
		return true
	}
	if !check(false) {
		return
	}
	var fe []astroapi.FieldError
	roles, fe = decodeRoles(c)
	if len(fe) > 0 {
		c.fail(http.StatusBadRequest, "invalid request body: "+fe[0].Message, fe)
		return
	}
	if hook := s.opts.BeforeRoleWrite; hook != nil {
		if !check(false) {
			return
		}
		hook(id)
	}
	if check(true) && s.opts.AfterRoleWrite != nil {
		s.opts.AfterRoleWrite(id, applied)
	}
}

// checkTokenRoles validates roles as t's new role list, upper-casing
// built-in role names in place. s.mu must be held.
func (s *Server) checkTokenRoles(t *Token, roles []astroapi.Role) []astroapi.FieldError {
	own, fe := ownEntity(s.idx, t.Scope, t.Roles)
	if len(fe) > 0 {
		return fe // unreachable: states are validated
	}
	return checkRoles(s.idx, t.Scope, own, roles, true)
}

// applyRoles stores t's new roles and bumps its updatedAt. s.mu must be held.
func (s *Server) applyRoles(t *Token, roles []astroapi.Role, by *astroapi.Subject) {
	t.Roles = roles
	t.UpdatedAt = bump(s.updatedAt(t))
	if by != nil {
		s.tokenMeta[t.ID].updatedBy = by
	}
}

func subjectRoles(roles []astroapi.Role) astroapi.SubjectRoles {
	var sr astroapi.SubjectRoles
	for _, r := range roles {
		switch r.EntityType {
		case astroapi.EntityOrganization:
			sr.OrganizationRole = r.Role
		case astroapi.EntityWorkspace:
			sr.WorkspaceRoles = append(sr.WorkspaceRoles, astroapi.WorkspaceRole{WorkspaceID: r.EntityID, Role: r.Role})
		case astroapi.EntityDeployment:
			sr.DeploymentRoles = append(sr.DeploymentRoles, astroapi.DeploymentRole{DeploymentID: r.EntityID, Role: r.Role})
		}
	}
	return sr
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// decodeRoles reads the body of POST /tokens/{id}/roles strictly
// (decodeObject).
func decodeRoles(c *call) ([]astroapi.Role, []astroapi.FieldError) {
	in, fe := decodeObject[struct {
		Roles *[]astroapi.Role `json:"roles"`
	}](c, `{"roles": [...]}`)
	switch {
	case len(fe) > 0:
		return nil, fe
	case in.Roles == nil:
		return nil, []astroapi.FieldError{{Field: "roles", Code: "required", Message: "roles is required"}}
	}
	return *in.Roles, nil
}

func jsonKind(k string) string {
	switch k {
	case "slice":
		return "a list"
	case "struct":
		return "an object"
	}
	return "a " + k
}

func (c *call) listDeployments(string) {
	q := c.query("deploymentIds", "workspaceIds", "names", "offset", "limit", "sorts")
	ids, wss, names := q.list("deploymentIds"), q.list("workspaceIds"), q.list("names")
	offset, limit := q.page()
	keys := q.sorts("name", "createdAt", "updatedAt")
	if q.rejected(c) || !c.mayList(wss, "deployments") {
		return
	}
	s := c.s
	var items []listed[apiDeployment]
	for _, d := range s.st.Deployments { // immutable after NewServer
		if !in(ids, d.ID) || !in(wss, d.WorkspaceID) || !in(names, d.Name) {
			continue
		}
		created := s.created["deployment/"+d.ID]
		h := hash(d.ID)
		items = append(items, listed[apiDeployment]{
			row{id: d.ID, name: d.Name, createdAt: created, updatedAt: created},
			apiDeployment{
				Deployment: astroapi.Deployment{
					ID: d.ID, Name: d.Name, WorkspaceID: d.WorkspaceID,
					WorkspaceName:  s.idx.workspaces[d.WorkspaceID].Name,
					OrganizationID: s.st.Organization.ID,
					Namespace:      "astronomer-" + h[:10],
					Status:         "HEALTHY",
					CreatedAt:      created, UpdatedAt: created,
				},
				Type:           "STANDARD",
				RuntimeVersion: "12.1.1",
				WebServerURL:   fmt.Sprintf("%s.astronomer.run/d%s", s.st.Organization.ID, h[:8]),
				CreatedBy:      &admin, UpdatedBy: &admin,
			},
		})
	}
	c.reply(http.StatusOK, deploymentList{
		Deployments: paginate(items, keys, offset, limit, s.opts.MaxPageSize),
		TotalCount:  len(items), Offset: offset, Limit: limit,
	})
}

func (c *call) listWorkspaces(string) {
	q := c.query("workspaceIds", "names", "offset", "limit", "sorts")
	ids, names := q.list("workspaceIds"), q.list("names")
	offset, limit := q.page()
	keys := q.sorts("name", "description", "createdAt", "updatedAt")
	if q.rejected(c) {
		return
	}
	if c.restricted() && len(ids) == 0 {
		// A confined credential sees its own workspaces (inferred).
		ids = c.cred.WorkspaceIDs
	}
	if !c.mayList(ids, "workspaces") {
		return
	}
	s := c.s
	var items []listed[apiWorkspace]
	for _, w := range s.st.Workspaces { // immutable after NewServer
		if !in(ids, w.ID) || !in(names, w.Name) {
			continue
		}
		created := s.created["workspace/"+w.ID]
		items = append(items, listed[apiWorkspace]{
			row{id: w.ID, name: w.Name, description: w.Description, createdAt: created, updatedAt: created},
			apiWorkspace{
				Workspace: astroapi.Workspace{
					ID: w.ID, Name: w.Name, Description: w.Description,
					OrganizationID: s.st.Organization.ID,
					CreatedAt:      created, UpdatedAt: created,
				},
				OrganizationName: s.st.Organization.Name,
				CreatedBy:        &admin, UpdatedBy: &admin,
			},
		})
	}
	c.reply(http.StatusOK, workspaceList{
		Workspaces: paginate(items, keys, offset, limit, s.opts.MaxPageSize),
		TotalCount: len(items), Offset: offset, Limit: limit,
	})
}

// mayList answers 403 unless the credential may list what with that
// workspaceIds filter: a confined credential must name its workspaces.
func (c *call) mayList(workspaceIDs []string, what string) bool {
	if !c.restricted() {
		return true
	}
	ok := len(workspaceIDs) > 0
	for _, w := range workspaceIDs {
		ok = ok && c.mayAccess(w)
	}
	if !ok {
		c.forbidden("this API token may list only the %s of its workspaces %s: filter by workspaceIds", what, strings.Join(c.cred.WorkspaceIDs, ", "))
	}
	return ok
}

func (c *call) listRoles(string) {
	q := c.query("scopeTypes", "includeDefaultRoles", "offset", "limit", "sorts")
	scopeTypes := q.list("scopeTypes")
	for _, st := range scopeTypes {
		if !slices.Contains(astroapi.RoleScopes(), st) {
			q.failf("scopeTypes", "oneof", "scopeTypes value %q is not one of %s", st, strings.Join(astroapi.RoleScopes(), ", "))
		}
	}
	includeDefault := q.boolean("includeDefaultRoles")
	offset, limit := q.page()
	keys := q.sorts("name", "description", "scopeType", "createdAt", "updatedAt")
	if q.rejected(c) {
		return
	}
	s := c.s
	var items []listed[astroapi.CustomRole]
	for _, r := range s.st.Roles { // immutable after NewServer
		if !in(scopeTypes, r.ScopeType) {
			continue
		}
		id := roleID(r)
		created := s.created["role/"+r.Name]
		items = append(items, listed[astroapi.CustomRole]{
			row{id: id, name: r.Name, description: r.Description, scopeType: r.ScopeType, createdAt: created, updatedAt: created},
			astroapi.CustomRole{
				ID: id, Name: r.Name, Description: r.Description, ScopeType: r.ScopeType,
				RestrictedWorkspaceIDs: append([]string{}, r.RestrictedWorkspaceIDs...),
				CreatedAt:              created, UpdatedAt: created, CreatedBy: &admin, UpdatedBy: &admin,
			},
		})
	}
	out := roleList{
		Roles:      paginate(items, keys, offset, limit, s.opts.MaxPageSize),
		TotalCount: len(items), Offset: offset, Limit: limit,
	}
	if includeDefault {
		defaults := []astroapi.DefaultRole{}
		for _, d := range defaultRoles {
			if in(scopeTypes, d.ScopeType) {
				d.Permissions = slices.Clone(d.Permissions)
				defaults = append(defaults, d)
			}
		}
		out.DefaultRoles = &defaults
	}
	c.reply(http.StatusOK, out)
}

// roleID is a custom role's id: its own, or one derived from its name.
func roleID(r CustomRole) string {
	if r.ID != "" {
		return r.ID
	}
	return "clrole" + hash(r.Name)[:19]
}

// getRole answers GET /roles/{roleId}: one custom role with its
// permissions (RoleWithPermission). Built-in roles have no id.
func (c *call) getRole(id string) {
	if c.noQuery() {
		return
	}
	s := c.s
	for _, r := range s.st.Roles { // immutable after NewServer
		if roleID(r) != id {
			continue
		}
		created := s.created["role/"+r.Name]
		c.reply(http.StatusOK, astroapi.RoleWithPermission{
			ID: id, Name: r.Name, Description: r.Description, ScopeType: r.ScopeType,
			Permissions:            append([]string{}, r.Permissions...),
			RestrictedWorkspaceIDs: append([]string{}, r.RestrictedWorkspaceIDs...),
			CreatedAt:              created, UpdatedAt: created, CreatedBy: &admin, UpdatedBy: &admin,
		})
		return
	}
	c.fail(http.StatusNotFound, fmt.Sprintf("role %q not found", id), nil)
}

// in reports whether v is among filter; an empty filter admits everything.
func in(filter []string, v string) bool {
	return len(filter) == 0 || slices.Contains(filter, v)
}

// row holds the sortable fields of a listed item.
type row struct {
	id, name, description, scopeType string
	createdAt, updatedAt             time.Time
}

type listed[T any] struct {
	row
	v T
}

func compareText(a, b string) int {
	return cmp.Or(cmp.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(a, b))
}

// sortFields are the fields a sorts parameter may name.
var sortFields = map[string]func(a, b *row) int{
	"name":         func(a, b *row) int { return compareText(a.name, b.name) },
	"description":  func(a, b *row) int { return compareText(a.description, b.description) },
	"scopeType":    func(a, b *row) int { return cmp.Compare(a.scopeType, b.scopeType) },
	"createdAt":    func(a, b *row) int { return a.createdAt.Compare(b.createdAt) },
	"updatedAt":    func(a, b *row) int { return a.updatedAt.Compare(b.updatedAt) },
	"tokenStartAt": func(a, b *row) int { return a.createdAt.Compare(b.createdAt) },
	// Users and team members list their username as name, fullName as description.
	"username": func(a, b *row) int { return compareText(a.name, b.name) },
	"fullName": func(a, b *row) int { return compareText(a.description, b.description) },
}

type sortKey struct {
	compare func(a, b *row) int
	desc    bool
}

// paginate sorts items by keys, then createdAt, then id, and returns the
// page at offset: limit items at most, and maxPage at most when not 0.
func paginate[T any](items []listed[T], keys []sortKey, offset, limit, maxPage int) []T {
	slices.SortStableFunc(items, func(a, b listed[T]) int {
		for _, k := range keys {
			if c := k.compare(&a.row, &b.row); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return cmp.Or(a.createdAt.Compare(b.createdAt), cmp.Compare(a.id, b.id))
	})
	n := limit
	if maxPage > 0 && maxPage < n {
		n = maxPage
	}
	out := []T{}
	for i := offset; i < len(items) && len(out) < n; i++ {
		out = append(out, items[i].v)
	}
	return out
}

// query reads the query parameters of a request strictly: unknown or
// repeated single parameters and malformed values are field errors.
type query struct {
	v    url.Values
	errs []astroapi.FieldError
}

func (c *call) query(allowed ...string) *query {
	q := &query{}
	v, err := url.ParseQuery(c.r.URL.RawQuery)
	if err != nil {
		q.failf("query", "invalid", "malformed query string: %v", err)
		return q
	}
	q.v = v
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			q.failf(k, "unknown", "unknown query parameter %q (this endpoint takes %s)", k, strings.Join(allowed, ", "))
		}
	}
	return q
}

// noQuery answers 400 when a request that takes no parameters has some.
func (c *call) noQuery() bool {
	return c.query().rejected(c)
}

func (q *query) failf(field, code, format string, args ...any) {
	q.errs = append(q.errs, astroapi.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// rejected answers 400 with every field error, if any.
func (q *query) rejected(c *call) bool {
	if len(q.errs) == 0 {
		return false
	}
	c.fail(http.StatusBadRequest, "invalid query parameters: "+q.errs[0].Message, q.errs)
	return true
}

func (q *query) one(name string) string {
	vals := q.v[name]
	switch {
	case len(vals) == 0:
		return ""
	case len(vals) > 1:
		q.failf(name, "single", "%s must be given at most once", name)
	case vals[0] == "":
		q.failf(name, "required", "%s must not be empty", name)
	}
	return vals[0]
}

func (q *query) list(name string) []string {
	for _, v := range q.v[name] {
		if v == "" {
			q.failf(name, "required", "%s values must not be empty", name)
			return nil
		}
	}
	return q.v[name]
}

func (q *query) boolean(name string) bool {
	switch v := q.one(name); v {
	case "", "false":
		return false
	case "true":
		return true
	default:
		q.failf(name, "boolean", "%s must be true or false, not %q", name, v)
		return false
	}
}

// page reads offset (default 0) and limit (default 20, 1..1000).
func (q *query) page() (offset, limit int) {
	integer := func(name string, def int) (int, bool) {
		v := q.one(name)
		if v == "" {
			return def, false
		}
		n, err := strconv.Atoi(v)
		if err != nil || strings.HasPrefix(v, "+") {
			q.failf(name, "integer", "%s must be an integer, not %q", name, v)
			return def, false
		}
		return n, true
	}
	offset, ok := integer("offset", 0)
	if ok && offset < 0 {
		q.failf("offset", "min", "offset must be at least 0, not %d", offset)
		offset = 0
	}
	limit, ok = integer("limit", 20)
	switch {
	case ok && limit < 1:
		q.failf("limit", "min", "limit must be at least 1, not %d", limit)
		limit = 20
	case ok && limit > 1000:
		q.failf("limit", "max", "limit must be at most 1000, not %d", limit)
		limit = 20
	}
	return offset, limit
}

// sorts reads the repeated sorts parameter: "field:asc" or "field:desc".
func (q *query) sorts(fields ...string) []sortKey {
	var keys []sortKey
	for _, v := range q.v["sorts"] {
		f, dir, _ := strings.Cut(v, ":")
		switch {
		case !slices.Contains(fields, f):
			q.failf("sorts", "oneof", "cannot sort by %q: sortable fields are %s", f, strings.Join(fields, ", "))
		case dir != "asc" && dir != "desc":
			q.failf("sorts", "oneof", "sorts value %q must end in :asc or :desc", v)
		default:
			keys = append(keys, sortKey{compare: sortFields[f], desc: dir == "desc"})
		}
	}
	return keys
}
