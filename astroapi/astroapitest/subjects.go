package astroapitest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
	"go.yaml.in/yaml/v3"
)

// RoleSet is the whole role set of a user or team, in the API's field
// names. POST /users/{id}/roles and /teams/{id}/roles replace all of it.
type RoleSet struct {
	OrganizationRole string                    `json:"organizationRole,omitempty" yaml:"organizationRole,omitempty"`
	WorkspaceRoles   []astroapi.WorkspaceRole  `json:"workspaceRoles" yaml:"workspaceRoles"`
	DeploymentRoles  []astroapi.DeploymentRole `json:"deploymentRoles" yaml:"deploymentRoles"`
	DagRoles         []astroapi.DagRole        `json:"dagRoles" yaml:"dagRoles"`
}

// User is a user of the organization and its roles. Username is its
// e-mail address, unique in the organization (compared
// case-insensitively). CreatedAt and UpdatedAt are optional: zero means a
// fixed default derived from the user's position in the state.
type User struct {
	ID       string `json:"id" yaml:"id"`
	Username string `json:"username" yaml:"username"`
	FullName string `json:"fullName,omitempty" yaml:"fullName,omitempty"`
	// Status is ACTIVE, INACTIVE, PENDING or BANNED.
	Status string `json:"status" yaml:"status"`
	RoleSet
	CreatedAt time.Time `json:"createdAt,omitzero" yaml:"createdAt,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitzero" yaml:"updatedAt,omitempty"`
}

// Team is a team of the organization, its roles and its members (user
// ids). A team always has an organization role. CreatedAt and UpdatedAt
// are optional, as for users.
type Team struct {
	ID           string `json:"id" yaml:"id"`
	Name         string `json:"name" yaml:"name"`
	Description  string `json:"description,omitempty" yaml:"description,omitempty"`
	IsIdpManaged bool   `json:"isIdpManaged,omitempty" yaml:"isIdpManaged,omitempty"`
	RoleSet
	MemberIDs []string  `json:"memberIds" yaml:"memberIds"`
	CreatedAt time.Time `json:"createdAt,omitzero" yaml:"createdAt,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitzero" yaml:"updatedAt,omitempty"`
}

// Subject kinds, as they name routes, errors and paths of a state.
const (
	kindUser = "user"
	kindTeam = "team"
)

var userStatuses = []string{astroapi.UserActive, astroapi.UserInactive, astroapi.UserPending, astroapi.UserBanned}

func (r RoleSet) clone() RoleSet {
	r.WorkspaceRoles = slices.Clone(r.WorkspaceRoles)
	r.DeploymentRoles = slices.Clone(r.DeploymentRoles)
	r.DagRoles = slices.Clone(r.DagRoles)
	return r
}

// normalized returns a copy with empty rather than nil lists.
func (r RoleSet) normalized() RoleSet {
	r = r.clone()
	if r.WorkspaceRoles == nil {
		r.WorkspaceRoles = []astroapi.WorkspaceRole{}
	}
	if r.DeploymentRoles == nil {
		r.DeploymentRoles = []astroapi.DeploymentRole{}
	}
	if r.DagRoles == nil {
		r.DagRoles = []astroapi.DagRole{}
	}
	return r
}

func cloneUsers(us []User) []User {
	us = slices.Clone(us)
	for i := range us {
		us[i].RoleSet = us[i].RoleSet.clone()
	}
	return us
}

func cloneTeams(ts []Team) []Team {
	ts = slices.Clone(ts)
	for i := range ts {
		ts[i].RoleSet = ts[i].RoleSet.clone()
		ts[i].MemberIDs = slices.Clone(ts[i].MemberIDs)
	}
	return ts
}

func normalizeSubjects(c *State) {
	if c.Users == nil {
		c.Users = []User{}
	}
	for i := range c.Users {
		c.Users[i].RoleSet = c.Users[i].RoleSet.normalized()
	}
	if c.Teams == nil {
		c.Teams = []Team{}
	}
	for i := range c.Teams {
		c.Teams[i].RoleSet = c.Teams[i].RoleSet.normalized()
		if c.Teams[i].MemberIDs == nil {
			c.Teams[i].MemberIDs = []string{}
		}
	}
}

// checkRoleSet applies the rules of POST /users/{id}/roles (kind "user")
// and /teams/{id}/roles (kind "team") to a whole role set and returns
// every violation. With fromAPI, built-in role names are accepted in any
// case and upper-cased in place; without it (a state) they must already
// be upper case, and a deployment role in a workspace where the subject
// holds no workspace role is an error, since the API would have added
// WORKSPACE_ACCESSOR there.
func checkRoleSet(x *index, kind string, r *RoleSet, fromAPI bool) []astroapi.FieldError {
	c := &roleSetCheck{x: x, kind: kind, fromAPI: fromAPI}
	c.organizationRole(r)
	workspaces := c.workspaceRoles(r.WorkspaceRoles)
	deployments := c.deploymentRoles(r.DeploymentRoles, workspaces)
	c.dagRoles(r.DagRoles, deployments)
	return c.errs
}

// roleSetCheck collects the violations of one role set (see checkRoleSet).
type roleSetCheck struct {
	x       *index
	kind    string
	fromAPI bool
	errs    []astroapi.FieldError
}

func (c *roleSetCheck) add(field, code, format string, args ...any) {
	c.errs = append(c.errs, astroapi.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// fit checks role on an entity of entityType in workspace (see fitRole)
// and returns the name to store, or "" after adding a violation.
func (c *roleSetCheck) fit(field, role, entityType, workspace string) string {
	if role == "" {
		c.add(field, "required", "role is required")
		return ""
	}
	stored, code, msg := fitRole(c.x, role, entityType, workspace, c.fromAPI)
	if code != "" {
		c.add(field, code, "%s", msg)
	}
	return stored
}

// organizationRole checks the organization role, required of a team and
// of a user with workspace, deployment or DAG roles.
func (c *roleSetCheck) organizationRole(r *RoleSet) {
	switch {
	case r.OrganizationRole != "":
		if stored := c.fit("organizationRole", r.OrganizationRole, astroapi.EntityOrganization, ""); stored != "" {
			r.OrganizationRole = stored
		}
	case c.kind == kindTeam:
		c.add("organizationRole", "required", "organizationRole is required")
	case len(r.DeploymentRoles) > 0:
		c.add("organizationRole", "required", "deploymentRoles requires also specifying an organizationRole")
	case len(r.WorkspaceRoles) > 0:
		c.add("organizationRole", "required", "workspaceRoles requires also specifying an organizationRole")
	case len(r.DagRoles) > 0:
		c.add("organizationRole", "required", "dagRoles requires also specifying an organizationRole")
	}
}

// workspaceRoles checks the workspace roles and returns the index of the
// entry of each workspace.
func (c *roleSetCheck) workspaceRoles(roles []astroapi.WorkspaceRole) map[string]int {
	workspaces := map[string]int{}
	for i := range roles {
		w := &roles[i]
		f := fmt.Sprintf("workspaceRoles[%d]", i)
		switch j, dup := workspaces[w.WorkspaceID]; {
		case w.WorkspaceID == "":
			c.add(f+".workspaceId", "required", "workspaceId is required")
			continue
		case c.x.workspaces[w.WorkspaceID] == nil:
			c.add(f+".workspaceId", "not_found", "unknown workspace %q", w.WorkspaceID)
			continue
		case dup:
			c.add(f, "duplicate", "a second role on workspace %q (first at workspaceRoles[%d])", w.WorkspaceID, j)
			continue
		}
		workspaces[w.WorkspaceID] = i
		if stored := c.fit(f+".role", w.Role, astroapi.EntityWorkspace, w.WorkspaceID); stored != "" {
			w.Role = stored
		}
	}
	return workspaces
}

// deploymentRoles checks the deployment roles, and returns the index of
// the entry of each deployment; workspaces are those where the subject
// holds a workspace role.
func (c *roleSetCheck) deploymentRoles(roles []astroapi.DeploymentRole, workspaces map[string]int) map[string]int {
	deployments := map[string]int{}
	for i := range roles {
		d := &roles[i]
		f := fmt.Sprintf("deploymentRoles[%d]", i)
		dep := c.x.deployments[d.DeploymentID]
		switch j, dup := deployments[d.DeploymentID]; {
		case d.DeploymentID == "":
			c.add(f+".deploymentId", "required", "deploymentId is required")
			continue
		case dep == nil:
			c.add(f+".deploymentId", "not_found", "unknown deployment %q", d.DeploymentID)
			continue
		case dup:
			c.add(f, "duplicate", "a second role on deployment %q (first at deploymentRoles[%d])", d.DeploymentID, j)
			continue
		}
		deployments[d.DeploymentID] = i
		if stored := c.fit(f+".role", d.Role, astroapi.EntityDeployment, dep.WorkspaceID); stored != "" {
			d.Role = stored
		}
		if _, ok := workspaces[dep.WorkspaceID]; !ok && !c.fromAPI {
			c.add(f, "workspace_role", "deployment %q is in workspace %q, where the %s holds no workspace role: Astro adds {workspaceId: %s, role: %s} on its own, so the state must list it",
				d.DeploymentID, dep.WorkspaceID, c.kind, dep.WorkspaceID, astroapi.RoleWorkspaceAccessor)
		}
	}
	return deployments
}

// dagRoles checks the DAG roles; deployments are those where the subject
// holds a deployment role.
func (c *roleSetCheck) dagRoles(roles []astroapi.DagRole, deployments map[string]int) {
	dags := map[astroapi.DagRole]int{}
	for i := range roles {
		g := &roles[i]
		f := fmt.Sprintf("dagRoles[%d]", i)
		if !c.dagTarget(f, g) {
			continue
		}
		key := astroapi.DagRole{DeploymentID: g.DeploymentID, DagID: g.DagID, DagTag: g.DagTag}
		if j, dup := dags[key]; dup {
			c.add(f, "duplicate", "a second role on the same DAG or tag of deployment %q (first at dagRoles[%d])", g.DeploymentID, j)
			continue
		}
		dags[key] = i
		dep := c.x.deployments[g.DeploymentID]
		if stored := c.fit(f+".role", g.Role, astroapi.EntityDAG, dep.WorkspaceID); stored != "" {
			g.Role = stored
		}
		if _, ok := deployments[g.DeploymentID]; !ok && !c.fromAPI {
			deployments[g.DeploymentID] = -1 // say it once per deployment
			c.add(f, "deployment_role", "the %s holds a DAG role on deployment %q but no deployment role there: Astro adds {deploymentId: %s, role: %s} on its own, so the state must list it",
				c.kind, g.DeploymentID, g.DeploymentID, astroapi.RoleDeploymentAccessor)
		}
	}
}

// dagTarget reports whether a DAG role names a known deployment and
// exactly one of a DAG and a tag, adding a violation when not.
func (c *roleSetCheck) dagTarget(f string, g *astroapi.DagRole) bool {
	switch {
	case g.DeploymentID == "":
		c.add(f+".deploymentId", "required", "deploymentId is required")
	case c.x.deployments[g.DeploymentID] == nil:
		c.add(f+".deploymentId", "not_found", "unknown deployment %q", g.DeploymentID)
	case g.DagID == "" && g.DagTag == "":
		c.add(f, "one_of", "one of dagId and dagTag is required")
	case g.DagID != "" && g.DagTag != "":
		c.add(f, "one_of", "only one of dagId and dagTag may be set")
	default:
		return true
	}
	return false
}

// addAccessors gives the subject DEPLOYMENT_ACCESSOR on every deployment
// where it holds a DAG role but no deployment role (inferred), then
// WORKSPACE_ACCESSOR on every workspace where it holds a deployment role
// but no workspace role (Astronomer's docs): the parents a DAG role needs,
// as Astro adds them. It never removes one.
func addAccessors(x *index, r *RoleSet) {
	deps := map[string]bool{}
	for _, d := range r.DeploymentRoles {
		deps[d.DeploymentID] = true
	}
	for _, g := range r.DagRoles {
		if !deps[g.DeploymentID] {
			deps[g.DeploymentID] = true
			r.DeploymentRoles = append(r.DeploymentRoles, astroapi.DeploymentRole{DeploymentID: g.DeploymentID, Role: astroapi.RoleDeploymentAccessor})
		}
	}
	has := map[string]bool{}
	for _, w := range r.WorkspaceRoles {
		has[w.WorkspaceID] = true
	}
	for _, d := range r.DeploymentRoles {
		ws := x.deployments[d.DeploymentID].WorkspaceID
		if !has[ws] {
			has[ws] = true
			r.WorkspaceRoles = append(r.WorkspaceRoles, astroapi.WorkspaceRole{WorkspaceID: ws, Role: astroapi.RoleWorkspaceAccessor})
		}
	}
}

// validateSubjects checks the users and teams of a state.
func (st *State) validateSubjects(x *index, add addProblem) {
	users := st.validateUsers(x, add)
	st.validateTeams(x, users, add)
}

// validateUsers checks the users and returns their ids.
func (st *State) validateUsers(x *index, add addProblem) map[string]bool {
	ids, names := map[string]bool{}, map[string]string{}
	for i := range st.Users {
		u := &st.Users[i]
		p := fmt.Sprintf("users[%d]", i)
		checkID(add, ids, p, "user", u.ID)
		lower := strings.ToLower(u.Username)
		switch first, dup := names[lower]; {
		case u.Username == "":
			add(p+".username", "user %q: username is required", u.ID)
		case dup:
			add(p+".username", "user %q: username %q is already the username of user %q", u.ID, u.Username, first)
		default:
			names[lower] = u.ID
		}
		if !slices.Contains(userStatuses, u.Status) {
			add(p+".status", "user %q: status %q is not one of %s", u.ID, u.Status, strings.Join(userStatuses, ", "))
		}
		rs := u.RoleSet.clone()
		for _, fe := range checkRoleSet(x, kindUser, &rs, false) {
			add(p+"."+fe.Field, "user %q: %s", u.ID, fe.Message)
		}
		checkTimes(add, p, "user", u.ID, u.CreatedAt, u.UpdatedAt)
	}
	return ids
}

// validateTeams checks the teams; users are the ids of the state's users.
func (st *State) validateTeams(x *index, users map[string]bool, add addProblem) {
	teams := map[string]bool{}
	for i := range st.Teams {
		t := &st.Teams[i]
		p := fmt.Sprintf("teams[%d]", i)
		checkID(add, teams, p, "team", t.ID)
		if t.Name == "" {
			add(p+".name", "team %q: name is required", t.ID)
		}
		rs := t.RoleSet.clone()
		for _, fe := range checkRoleSet(x, kindTeam, &rs, false) {
			add(p+"."+fe.Field, "team %q: %s", t.ID, fe.Message)
		}
		members := map[string]bool{}
		for j, m := range t.MemberIDs {
			mp := fmt.Sprintf("%s.memberIds[%d]", p, j)
			switch {
			case !users[m]:
				add(mp, "team %q: unknown user %q", t.ID, m)
			case members[m]:
				add(mp, "team %q: user %q is listed twice", t.ID, m)
			}
			members[m] = true
		}
		checkTimes(add, p, "team", t.ID, t.CreatedAt, t.UpdatedAt)
	}
}

// roleSetFields decodes the role-set keys of a user or team in a state file.
func (p *parser) roleSetFields(r *RoleSet, fields map[string]field) map[string]field {
	fields["organizationRole"] = p.str(&r.OrganizationRole, "organizationRole")
	fields["workspaceRoles"] = func(v *yaml.Node, path string) {
		r.WorkspaceRoles = []astroapi.WorkspaceRole{}
		p.seq(v, path, "workspaceRoles", func(_ int, item *yaml.Node, ip string) {
			var w astroapi.WorkspaceRole
			p.mapping(item, ip, "workspace role", map[string]field{
				"workspaceId": p.str(&w.WorkspaceID, "workspaceId"),
				"role":        p.str(&w.Role, "role"),
			})
			r.WorkspaceRoles = append(r.WorkspaceRoles, w)
		})
	}
	fields["deploymentRoles"] = func(v *yaml.Node, path string) {
		r.DeploymentRoles = []astroapi.DeploymentRole{}
		p.seq(v, path, "deploymentRoles", func(_ int, item *yaml.Node, ip string) {
			var d astroapi.DeploymentRole
			p.mapping(item, ip, "deployment role", map[string]field{
				"deploymentId": p.str(&d.DeploymentID, "deploymentId"),
				"role":         p.str(&d.Role, "role"),
			})
			r.DeploymentRoles = append(r.DeploymentRoles, d)
		})
	}
	fields["dagRoles"] = func(v *yaml.Node, path string) {
		r.DagRoles = []astroapi.DagRole{}
		p.seq(v, path, "dagRoles", func(_ int, item *yaml.Node, ip string) {
			var g astroapi.DagRole
			p.mapping(item, ip, "DAG role", map[string]field{
				"deploymentId": p.str(&g.DeploymentID, "deploymentId"),
				"dagId":        p.str(&g.DagID, "dagId"),
				"dagTag":       p.str(&g.DagTag, "dagTag"),
				"role":         p.str(&g.Role, "role"),
			})
			r.DagRoles = append(r.DagRoles, g)
		})
	}
	return fields
}

// users decodes the users key of a state file.
func (p *parser) users(st *State) field {
	return func(v *yaml.Node, path string) {
		p.seq(v, path, "users", func(_ int, item *yaml.Node, ip string) {
			var u User
			p.mapping(item, ip, "user", p.roleSetFields(&u.RoleSet, map[string]field{
				"id":        p.str(&u.ID, "user id"),
				"username":  p.str(&u.Username, "username"),
				"fullName":  p.str(&u.FullName, "fullName"),
				"status":    p.str(&u.Status, "user status"),
				"createdAt": p.time(&u.CreatedAt, "user createdAt"),
				"updatedAt": p.time(&u.UpdatedAt, "user updatedAt"),
			}))
			st.Users = append(st.Users, u)
		})
	}
}

// teams decodes the teams key of a state file.
func (p *parser) teams(st *State) field {
	return func(v *yaml.Node, path string) {
		p.seq(v, path, "teams", func(_ int, item *yaml.Node, ip string) {
			var t Team
			p.mapping(item, ip, "team", p.roleSetFields(&t.RoleSet, map[string]field{
				"id":           p.str(&t.ID, "team id"),
				"name":         p.str(&t.Name, "team name"),
				"description":  p.str(&t.Description, "team description"),
				"isIdpManaged": p.boolean(&t.IsIdpManaged, "team isIdpManaged"),
				"memberIds":    p.strs(&t.MemberIDs, "team memberIds"),
				"createdAt":    p.time(&t.CreatedAt, "team createdAt"),
				"updatedAt":    p.time(&t.UpdatedAt, "team updatedAt"),
			}))
			st.Teams = append(st.Teams, t)
		})
	}
}
