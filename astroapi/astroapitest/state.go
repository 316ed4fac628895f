package astroapitest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

// State is the emulator's whole state. The YAML state file and the JSON of
// GET /_emulator/state share this shape and use the API's field names. To
// write a state file from Go, json.Marshal a State: JSON is YAML. In a
// State from ParseState, lists are empty rather than nil, except
// Credentials and Credential.WorkspaceIDs, which are nil when empty.
type State struct {
	Organization Organization `json:"organization" yaml:"organization"`
	Workspaces   []Workspace  `json:"workspaces" yaml:"workspaces"`
	Deployments  []Deployment `json:"deployments" yaml:"deployments"`
	// Roles are the organization's custom roles.
	Roles  []CustomRole `json:"roles" yaml:"roles"`
	Tokens []Token      `json:"tokens" yaml:"tokens"`
	Users  []User       `json:"users" yaml:"users"`
	Teams  []Team       `json:"teams" yaml:"teams"`
	// Credentials are the accepted bearer secrets. Without any, every
	// non-empty bearer is accepted with full access.
	Credentials []Credential `json:"credentials,omitempty" yaml:"credentials,omitempty"`
}

// Organization is the one organization the emulator serves.
type Organization struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
}

// Workspace is a workspace of the organization.
type Workspace struct {
	ID          string `json:"id" yaml:"id"`
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
}

// Deployment is a deployment in one workspace.
type Deployment struct {
	ID          string `json:"id" yaml:"id"`
	Name        string `json:"name" yaml:"name"`
	WorkspaceID string `json:"workspaceId" yaml:"workspaceId"`
}

// CustomRole is a custom role, referenced by Name in token roles. ID is
// derived from Name when empty. ScopeType is ORGANIZATION, WORKSPACE,
// DEPLOYMENT or DAG: the level at which the role may be granted.
// RestrictedWorkspaceIDs, when not empty, lists the only workspaces in
// which the role may be granted. Permissions are what GET /roles/{id}
// answers.
type CustomRole struct {
	ID                     string   `json:"id,omitempty" yaml:"id,omitempty"`
	Name                   string   `json:"name" yaml:"name"`
	Description            string   `json:"description,omitempty" yaml:"description,omitempty"`
	ScopeType              string   `json:"scopeType" yaml:"scopeType"`
	RestrictedWorkspaceIDs []string `json:"restrictedWorkspaceIds" yaml:"restrictedWorkspaceIds"`
	Permissions            []string `json:"permissions" yaml:"permissions"`
}

// Token is an API token and its role list. Its own scope entity (the
// organization, its workspace or its deployment) is the entity of its one
// role of the scope's entity type. CreatedAt and UpdatedAt are optional:
// zero means a fixed default derived from the token's position in the state.
//
// The lifecycle fields are served as the API names them: Kind (STANDARD,
// the default, or DIRECT_ACCESS); StartAt (createdAt when zero); EndAt
// (zero: the token never expires, unless ExpiryPeriodInDays gives it
// startAt plus that many days); LastUsedAt and LastRotatedAt (zero: left
// out of the answer, never used or never rotated).
type Token struct {
	ID                 string          `json:"id" yaml:"id"`
	Name               string          `json:"name" yaml:"name"`
	Description        string          `json:"description,omitempty" yaml:"description,omitempty"`
	Scope              string          `json:"scope" yaml:"scope"`
	Kind               string          `json:"kind,omitempty" yaml:"kind,omitempty"`
	Roles              []astroapi.Role `json:"roles" yaml:"roles"`
	StartAt            time.Time       `json:"startAt,omitzero" yaml:"startAt,omitempty"`
	EndAt              time.Time       `json:"endAt,omitzero" yaml:"endAt,omitempty"`
	ExpiryPeriodInDays int             `json:"expiryPeriodInDays,omitempty" yaml:"expiryPeriodInDays,omitempty"`
	LastUsedAt         time.Time       `json:"lastUsedAt,omitzero" yaml:"lastUsedAt,omitempty"`
	LastRotatedAt      time.Time       `json:"lastRotatedAt,omitzero" yaml:"lastRotatedAt,omitempty"`
	CreatedAt          time.Time       `json:"createdAt,omitzero" yaml:"createdAt,omitempty"`
	UpdatedAt          time.Time       `json:"updatedAt,omitzero" yaml:"updatedAt,omitempty"`
}

// Credential is an accepted bearer secret. TokenID, when set, names the
// token the secret belongs to: it becomes updatedBy of the writes it makes,
// and the credential is removed when that token is deleted. WorkspaceIDs, when set,
// confine it to those workspaces; ReadOnly forbids POST and DELETE.
type Credential struct {
	Secret       string   `json:"secret,omitempty" yaml:"secret"`
	TokenID      string   `json:"tokenId,omitempty" yaml:"tokenId,omitempty"`
	WorkspaceIDs []string `json:"workspaceIds,omitempty" yaml:"workspaceIds,omitempty"`
	ReadOnly     bool     `json:"readOnly,omitempty" yaml:"readOnly,omitempty"`
}

// Clone returns a deep copy of st.
func (st *State) Clone() *State {
	c := *st
	c.Workspaces = slices.Clone(st.Workspaces)
	c.Deployments = slices.Clone(st.Deployments)
	c.Roles = slices.Clone(st.Roles)
	for i := range c.Roles {
		c.Roles[i].RestrictedWorkspaceIDs = slices.Clone(c.Roles[i].RestrictedWorkspaceIDs)
		c.Roles[i].Permissions = slices.Clone(c.Roles[i].Permissions)
	}
	c.Tokens = slices.Clone(st.Tokens)
	for i := range c.Tokens {
		c.Tokens[i].Roles = slices.Clone(c.Tokens[i].Roles)
	}
	c.Users = cloneUsers(st.Users)
	c.Teams = cloneTeams(st.Teams)
	c.Credentials = slices.Clone(st.Credentials)
	for i := range c.Credentials {
		c.Credentials[i].WorkspaceIDs = slices.Clone(c.Credentials[i].WorkspaceIDs)
	}
	return &c
}

// normalized returns a deep copy of st in which lists are empty rather
// than nil, except the optional credentials and their workspaceIds, which
// are nil rather than empty: the form of ParseState's results, which JSON
// encodes as the API would and decodes back to an equal State.
func (st *State) normalized() *State {
	c := st.Clone()
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	if c.Workspaces == nil {
		c.Workspaces = []Workspace{}
	}
	if c.Deployments == nil {
		c.Deployments = []Deployment{}
	}
	if c.Roles == nil {
		c.Roles = []CustomRole{}
	}
	for i := range c.Roles {
		c.Roles[i].RestrictedWorkspaceIDs = nonNil(c.Roles[i].RestrictedWorkspaceIDs)
		c.Roles[i].Permissions = nonNil(c.Roles[i].Permissions)
	}
	if c.Tokens == nil {
		c.Tokens = []Token{}
	}
	for i := range c.Tokens {
		if c.Tokens[i].Roles == nil {
			c.Tokens[i].Roles = []astroapi.Role{}
		}
	}
	normalizeSubjects(c)
	if len(c.Credentials) == 0 {
		c.Credentials = nil
	}
	for i := range c.Credentials {
		if len(c.Credentials[i].WorkspaceIDs) == 0 {
			c.Credentials[i].WorkspaceIDs = nil
		}
	}
	return c
}

// problem is one finding of Validate: path locates the offending value,
// e.g. "tokens[3].roles[1].entityId".
type problem struct {
	path string
	msg  string
}

// Validate checks that st is a state the API could be in: unique ids,
// no dangling references, valid scopes and entity types, and every token's
// role list valid under the same rules as POST /tokens/{id}/roles. It
// reports every problem at once, each prefixed with its path.
func (st *State) Validate() error {
	probs := st.validate()
	if len(probs) == 0 {
		return nil
	}
	errs := make([]error, len(probs))
	for i, p := range probs {
		errs[i] = fmt.Errorf("%s: %s", p.path, p.msg)
	}
	return errors.Join(errs...)
}

// addProblem records a problem of a state at a path.
type addProblem func(path, format string, args ...any)

func (st *State) validate() []problem {
	var probs []problem
	add := func(path, format string, args ...any) {
		probs = append(probs, problem{path, fmt.Sprintf(format, args...)})
	}
	if st.Organization.ID == "" {
		add("organization.id", "organization id is required")
	}
	if st.Organization.Name == "" {
		add("organization.name", "organization name is required")
	}
	ws := st.validateWorkspaces(add)
	st.validateDeployments(ws, add)
	st.validateRoles(ws, add)
	idx := newIndex(st)
	toks := st.validateTokens(idx, add)
	st.validateSubjects(idx, add)
	st.validateCredentials(ws, toks, add)
	return probs
}

// checkID adds a problem when id is empty or already in seen, and adds it
// to seen.
func checkID(add addProblem, seen map[string]bool, path, noun, id string) {
	switch {
	case id == "":
		add(path+".id", "%s id is required", noun)
	case seen[id]:
		add(path+".id", "duplicate %s id %q", noun, id)
	}
	seen[id] = true
}

// checkTimes adds a problem when updated is before created (both set).
func checkTimes(add addProblem, path, noun, id string, created, updated time.Time) {
	if !updated.IsZero() && !created.IsZero() && updated.Before(created) {
		add(path+".updatedAt", "%s %q: updatedAt is before createdAt", noun, id)
	}
}

// validateWorkspaces checks the workspaces and returns their ids.
func (st *State) validateWorkspaces(add addProblem) map[string]bool {
	ws := map[string]bool{}
	for i, w := range st.Workspaces {
		p := fmt.Sprintf("workspaces[%d]", i)
		checkID(add, ws, p, "workspace", w.ID)
		if w.Name == "" {
			add(p+".name", "workspace %q: name is required", w.ID)
		}
	}
	return ws
}

// validateDeployments checks the deployments against the workspace ids.
func (st *State) validateDeployments(ws map[string]bool, add addProblem) {
	deps := map[string]bool{}
	for i, d := range st.Deployments {
		p := fmt.Sprintf("deployments[%d]", i)
		checkID(add, deps, p, "deployment", d.ID)
		if d.Name == "" {
			add(p+".name", "deployment %q: name is required", d.ID)
		}
		switch {
		case d.WorkspaceID == "":
			add(p+".workspaceId", "deployment %q: workspaceId is required", d.ID)
		case !ws[d.WorkspaceID]:
			add(p+".workspaceId", "deployment %q: unknown workspace %q", d.ID, d.WorkspaceID)
		}
	}
}

// validateRoles checks the custom roles against the workspace ids.
func (st *State) validateRoles(ws map[string]bool, add addProblem) {
	roleIDs, roleNames := map[string]bool{}, map[string]bool{}
	for i, r := range st.Roles {
		p := fmt.Sprintf("roles[%d]", i)
		switch {
		case r.Name == "":
			add(p+".name", "custom role name is required")
		case astroapi.IsBuiltinRole(r.Name):
			add(p+".name", "custom role %q: the name of a built-in role", r.Name)
		case roleNames[r.Name]:
			add(p+".name", "duplicate custom role name %q", r.Name)
		}
		roleNames[r.Name] = true
		if r.ID != "" {
			if roleIDs[r.ID] {
				add(p+".id", "duplicate custom role id %q", r.ID)
			}
			roleIDs[r.ID] = true
		}
		if !slices.Contains(astroapi.RoleScopes(), r.ScopeType) {
			add(p+".scopeType", "custom role %q: scopeType %q is not one of %s", r.Name, r.ScopeType, strings.Join(astroapi.RoleScopes(), ", "))
		}
		for j, w := range r.RestrictedWorkspaceIDs {
			if !ws[w] {
				add(fmt.Sprintf("%s.restrictedWorkspaceIds[%d]", p, j), "custom role %q: unknown workspace %q", r.Name, w)
			}
		}
		perms := map[string]bool{}
		for j, perm := range r.Permissions {
			pp := fmt.Sprintf("%s.permissions[%d]", p, j)
			switch {
			case perm == "":
				add(pp, "custom role %q: a permission must not be empty", r.Name)
			case perms[perm]:
				add(pp, "custom role %q: permission %q is listed twice", r.Name, perm)
			}
			perms[perm] = true
		}
	}
}

// validateTokens checks the tokens and their role lists, and returns
// their ids.
func (st *State) validateTokens(idx *index, add addProblem) map[string]bool {
	toks := map[string]bool{}
	for i, t := range st.Tokens {
		p := fmt.Sprintf("tokens[%d]", i)
		checkID(add, toks, p, "token", t.ID)
		if t.Name == "" {
			add(p+".name", "token %q: name is required", t.ID)
		}
		if !slices.Contains(astroapi.Scopes(), t.Scope) {
			add(p+".scope", "token %q: scope %q is not one of %s", t.ID, t.Scope, strings.Join(astroapi.Scopes(), ", "))
			continue
		}
		own, ferrs := ownEntity(idx, t.Scope, t.Roles)
		if len(ferrs) == 0 {
			ferrs = checkRoles(idx, t.Scope, own, t.Roles, false)
		}
		for _, fe := range ferrs {
			add(p+"."+fe.Field, "token %q: %s", t.ID, fe.Message)
		}
		checkTimes(add, p, "token", t.ID, t.CreatedAt, t.UpdatedAt)
		checkLifecycle(add, p, &t)
	}
	return toks
}

// checkLifecycle checks a token's lifecycle fields: a known kind, no
// negative expiry period, an end after the start, and no use or rotation
// before the token was created.
func checkLifecycle(add addProblem, p string, t *Token) {
	if t.Kind != "" && t.Kind != astroapi.TokenStandard && t.Kind != astroapi.TokenDirectAccess {
		add(p+".kind", "token %q: kind %q is not one of %s, %s", t.ID, t.Kind, astroapi.TokenStandard, astroapi.TokenDirectAccess)
	}
	if t.ExpiryPeriodInDays < 0 {
		add(p+".expiryPeriodInDays", "token %q: expiryPeriodInDays must not be negative", t.ID)
	}
	start := firstSet(t.StartAt, t.CreatedAt)
	if !t.EndAt.IsZero() && !start.IsZero() && !t.EndAt.After(start) {
		add(p+".endAt", "token %q: endAt must be after startAt (or createdAt)", t.ID)
	}
	if t.CreatedAt.IsZero() {
		return
	}
	for _, f := range []struct {
		name string
		at   time.Time
	}{{"lastUsedAt", t.LastUsedAt}, {"lastRotatedAt", t.LastRotatedAt}} {
		if !f.at.IsZero() && f.at.Before(t.CreatedAt) {
			add(p+"."+f.name, "token %q: %s is before createdAt", t.ID, f.name)
		}
	}
}

// firstSet returns the first of ts that is not zero, or zero.
func firstSet(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// validateCredentials checks the credentials against the workspace and
// token ids.
func (st *State) validateCredentials(ws, toks map[string]bool, add addProblem) {
	secrets := map[string]bool{}
	for i, c := range st.Credentials {
		p := fmt.Sprintf("credentials[%d]", i)
		switch {
		case c.Secret == "":
			add(p+".secret", "credential secret is required")
		case strings.TrimSpace(c.Secret) != c.Secret || strings.ContainsAny(c.Secret, " \t\r\n"):
			add(p+".secret", "credential secret must not contain white space")
		case secrets[c.Secret]:
			add(p+".secret", "duplicate credential secret")
		}
		secrets[c.Secret] = true
		if c.TokenID != "" && !toks[c.TokenID] {
			add(p+".tokenId", "credential: unknown token %q", c.TokenID)
		}
		for j, w := range c.WorkspaceIDs {
			if !ws[w] {
				add(fmt.Sprintf("%s.workspaceIds[%d]", p, j), "credential: unknown workspace %q", w)
			}
		}
	}
}

// index gives the rule checks fast access to a state's entities.
type index struct {
	org         string
	workspaces  map[string]*Workspace
	deployments map[string]*Deployment
	customRoles map[string]*CustomRole // by name
}

func newIndex(st *State) *index {
	x := &index{
		org:         st.Organization.ID,
		workspaces:  map[string]*Workspace{},
		deployments: map[string]*Deployment{},
		customRoles: map[string]*CustomRole{},
	}
	for i := range st.Workspaces {
		x.workspaces[st.Workspaces[i].ID] = &st.Workspaces[i]
	}
	for i := range st.Deployments {
		x.deployments[st.Deployments[i].ID] = &st.Deployments[i]
	}
	for i := range st.Roles {
		x.customRoles[st.Roles[i].Name] = &st.Roles[i]
	}
	return x
}

// scopeEntity is the entity type of a token's own-scope role.
func scopeEntity(scope string) string {
	switch scope {
	case astroapi.ScopeOrganization:
		return astroapi.EntityOrganization
	case astroapi.ScopeWorkspace:
		return astroapi.EntityWorkspace
	}
	return astroapi.EntityDeployment
}

// ownEntity derives a token's own scope entity from its role list: the
// organization, or the entity of its one role of the scope's entity type.
func ownEntity(x *index, scope string, roles []astroapi.Role) (string, []astroapi.FieldError) {
	if scope == astroapi.ScopeOrganization {
		return x.org, nil
	}
	et := scopeEntity(scope)
	var own []string
	for _, r := range roles {
		if r.EntityType == et {
			own = append(own, r.EntityID)
		}
	}
	if len(own) != 1 {
		return "", []astroapi.FieldError{{
			Field: "roles", Code: "own_scope_role",
			Message: fmt.Sprintf("%s %s token must hold exactly one %s role (on its own %s), found %d",
				article(scope), scope, et, strings.ToLower(et), len(own)),
		}}
	}
	return own[0], nil
}

// article is the indefinite article of an upper-case word.
func article(word string) string {
	if strings.IndexByte("AEIOU", word[0]) >= 0 {
		return "an"
	}
	return "a"
}
