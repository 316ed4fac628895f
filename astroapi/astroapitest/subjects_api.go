package astroapitest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

var (
	routeUsers = &route{"/organizations/{organizationId}/users",
		map[string]handler{http.MethodGet: (*call).listUsers}}
	routeUser = &route{"/organizations/{organizationId}/users/{userId}",
		map[string]handler{http.MethodGet: func(c *call, id string) { c.getSubject(kindUser, id) }}}
	routeUserRoles = &route{"/organizations/{organizationId}/users/{userId}/roles",
		map[string]handler{http.MethodPost: func(c *call, id string) { c.setSubjectRoles(kindUser, id) }}}
	routeTeams = &route{"/organizations/{organizationId}/teams",
		map[string]handler{http.MethodGet: (*call).listTeams}}
	routeTeam = &route{"/organizations/{organizationId}/teams/{teamId}",
		map[string]handler{http.MethodGet: func(c *call, id string) { c.getSubject(kindTeam, id) }, http.MethodPost: (*call).updateTeam}}
	routeTeamRoles = &route{"/organizations/{organizationId}/teams/{teamId}/roles",
		map[string]handler{http.MethodPost: func(c *call, id string) { c.setSubjectRoles(kindTeam, id) }}}
	routeTeamMembers = &route{"/organizations/{organizationId}/teams/{teamId}/members",
		map[string]handler{http.MethodGet: (*call).listTeamMembers}}
)

// matchSubjects finds the users and teams routes among the path segments
// after the organization id.
func matchSubjects(rest []string) (*route, string) {
	switch {
	case len(rest) == 1 && rest[0] == "users":
		return routeUsers, ""
	case len(rest) == 2 && rest[0] == "users":
		return routeUser, rest[1]
	case len(rest) == 3 && rest[0] == "users" && rest[2] == "roles":
		return routeUserRoles, rest[1]
	case len(rest) == 1 && rest[0] == "teams":
		return routeTeams, ""
	case len(rest) == 2 && rest[0] == "teams":
		return routeTeam, rest[1]
	case len(rest) == 3 && rest[0] == "teams" && rest[2] == "roles":
		return routeTeamRoles, rest[1]
	case len(rest) == 3 && rest[0] == "teams" && rest[2] == "members":
		return routeTeamMembers, rest[1]
	}
	return nil, ""
}

// List envelopes.
type (
	userList struct {
		Users      []astroapi.User `json:"users"`
		TotalCount int             `json:"totalCount"`
		Offset     int             `json:"offset"`
		Limit      int             `json:"limit"`
	}
	teamList struct {
		Teams      []astroapi.Team `json:"teams"`
		TotalCount int             `json:"totalCount"`
		Offset     int             `json:"offset"`
		Limit      int             `json:"limit"`
	}
	teamMemberList struct {
		TeamMembers []astroapi.TeamMember `json:"teamMembers"`
		TotalCount  int                   `json:"totalCount"`
		Offset      int                   `json:"offset"`
		Limit       int                   `json:"limit"`
	}
)

// user returns the user with id and its position, or nil. s.mu must be held.
func (s *Server) user(id string) (*User, int) {
	for i := range s.st.Users {
		if s.st.Users[i].ID == id {
			return &s.st.Users[i], i
		}
	}
	return nil, -1
}

// team returns the team with id and its position, or nil. s.mu must be held.
func (s *Server) team(id string) (*Team, int) {
	for i := range s.st.Teams {
		if s.st.Teams[i].ID == id {
			return &s.st.Teams[i], i
		}
	}
	return nil, -1
}

// subject is a user or team as the role handlers see it.
type subject struct {
	roles     *RoleSet
	createdAt time.Time
	updatedAt *time.Time
	render    func() any // as the API answers it; s.mu must be held
}

// subject returns the user or team with id, or nil. s.mu must be held.
func (s *Server) subject(kind, id string) *subject {
	if kind == kindUser {
		u, i := s.user(id)
		if u == nil {
			return nil
		}
		return &subject{&u.RoleSet, s.userCreated(u, i), &u.UpdatedAt, func() any { return s.apiUser(u, i) }}
	}
	t, i := s.team(id)
	if t == nil {
		return nil
	}
	return &subject{&t.RoleSet, s.teamCreated(t, i), &t.UpdatedAt, func() any { return s.apiTeam(t, i) }}
}

// Default timestamps: users and teams never move in the state, so their
// position gives a stable default.
func (s *Server) userCreated(u *User, i int) time.Time {
	if !u.CreatedAt.IsZero() {
		return u.CreatedAt
	}
	return epoch.Add(20*24*time.Hour + time.Duration(i)*time.Hour)
}

func (s *Server) teamCreated(t *Team, i int) time.Time {
	if !t.CreatedAt.IsZero() {
		return t.CreatedAt
	}
	return epoch.Add(25*24*time.Hour + time.Duration(i)*time.Hour)
}

func orCreated(updated, created time.Time) time.Time {
	if updated.IsZero() {
		return created
	}
	return updated
}

// apiUser renders the user at position i as the API does. s.mu must be held.
func (s *Server) apiUser(u *User, i int) astroapi.User {
	created := s.userCreated(u, i)
	r := u.RoleSet.clone()
	return astroapi.User{
		ID:               u.ID,
		Username:         u.Username,
		FullName:         u.FullName,
		AvatarURL:        "https://avatars.example.com/" + hash(u.ID)[:16] + ".png",
		Status:           u.Status,
		OrganizationRole: r.OrganizationRole,
		WorkspaceRoles:   r.WorkspaceRoles,
		DeploymentRoles:  r.DeploymentRoles,
		DagRoles:         r.DagRoles,
		CreatedAt:        created,
		UpdatedAt:        orCreated(u.UpdatedAt, created),
	}
}

// apiTeam renders the team at position i as the API does. s.mu must be held.
func (s *Server) apiTeam(t *Team, i int) astroapi.Team {
	created := s.teamCreated(t, i)
	r := t.RoleSet.clone()
	createdBy, updatedBy := admin, admin
	if by := s.subjectUpdatedBy[kindTeam+"/"+t.ID]; by != nil {
		updatedBy = *by
	}
	return astroapi.Team{
		ID:               t.ID,
		Name:             t.Name,
		Description:      t.Description,
		IsIdpManaged:     t.IsIdpManaged,
		OrganizationID:   s.st.Organization.ID,
		OrganizationRole: r.OrganizationRole,
		WorkspaceRoles:   r.WorkspaceRoles,
		DeploymentRoles:  r.DeploymentRoles,
		DagRoles:         r.DagRoles,
		RolesCount:       1 + len(r.WorkspaceRoles) + len(r.DeploymentRoles) + len(r.DagRoles),
		CreatedAt:        created,
		CreatedBy:        &createdBy,
		UpdatedAt:        orCreated(t.UpdatedAt, created),
		UpdatedBy:        &updatedBy,
	}
}

// holds reports whether r holds a role on workspace ws (when not "") and
// on deployment dep (when not ""): a deployment role or a DAG role there.
func (r *RoleSet) holds(ws, dep string) bool {
	if ws != "" && !slices.ContainsFunc(r.WorkspaceRoles, func(w astroapi.WorkspaceRole) bool { return w.WorkspaceID == ws }) {
		return false
	}
	if dep != "" &&
		!slices.ContainsFunc(r.DeploymentRoles, func(d astroapi.DeploymentRole) bool { return d.DeploymentID == dep }) &&
		!slices.ContainsFunc(r.DagRoles, func(g astroapi.DagRole) bool { return g.DeploymentID == dep }) {
		return false
	}
	return true
}

// maySeeRoles reports whether the credential may read a subject with
// roles r: it holds a role in one of the credential's workspaces.
func (c *call) maySeeRoles(r *RoleSet) bool {
	if !c.restricted() {
		return true
	}
	for _, w := range r.WorkspaceRoles {
		if c.mayAccess(w.WorkspaceID) {
			return true
		}
	}
	for _, d := range r.DeploymentRoles {
		if c.mayAccess(c.s.idx.deployments[d.DeploymentID].WorkspaceID) {
			return true
		}
	}
	for _, g := range r.DagRoles {
		if c.mayAccess(c.s.idx.deployments[g.DeploymentID].WorkspaceID) {
			return true
		}
	}
	return false
}

// mayListHolders answers 403 unless the credential may list the what
// (users, teams) holding roles on workspace ws or deployment dep: a
// credential confined to workspaces must filter by one of them.
func (c *call) mayListHolders(ws, dep, what string) bool {
	if !c.restricted() {
		return true
	}
	var ok bool
	switch {
	case ws != "":
		ok = c.mayAccess(ws)
	case dep != "":
		d := c.s.idx.deployments[dep]
		ok = d != nil && c.mayAccess(d.WorkspaceID)
	}
	if !ok {
		c.forbidden("this API token may list only the %s of its workspaces %s: filter by workspaceId", what, strings.Join(c.cred.WorkspaceIDs, ", "))
	}
	return ok
}

// holdsDAG reports whether r holds a DAG role on DAG dagID (when not "")
// or on one of tags (when not empty), on deployment dep when not "".
func (r *RoleSet) holdsDAG(dep, dagID string, tags []string) bool {
	if dagID == "" && len(tags) == 0 {
		return true
	}
	return slices.ContainsFunc(r.DagRoles, func(g astroapi.DagRole) bool {
		return (dep == "" || g.DeploymentID == dep) &&
			(dagID == "" || g.DagID == dagID) &&
			(len(tags) == 0 || g.DagTag != "" && slices.Contains(tags, g.DagTag))
	})
}

func (c *call) listUsers(string) {
	q := c.query("workspaceId", "deploymentId", "dagId", "dagTags", "offset", "limit", "sorts")
	ws, dep := q.one("workspaceId"), q.one("deploymentId")
	dagID, tags := q.one("dagId"), q.list("dagTags")
	offset, limit := q.page()
	keys := q.sorts("username", "fullName", "createdAt", "updatedAt")
	if q.rejected(c) || !c.mayListHolders(ws, dep, "users") {
		return
	}
	s := c.s
	s.mu.Lock()
	var items []listed[astroapi.User]
	for i := range s.st.Users {
		u := &s.st.Users[i]
		if !u.holds(ws, dep) || !u.holdsDAG(dep, dagID, tags) {
			continue
		}
		v := s.apiUser(u, i)
		items = append(items, listed[astroapi.User]{
			row{id: u.ID, name: u.Username, description: u.FullName, createdAt: v.CreatedAt, updatedAt: v.UpdatedAt}, v})
	}
	s.mu.Unlock()
	c.reply(http.StatusOK, userList{
		Users:      paginate(items, keys, offset, limit, s.opts.MaxPageSize),
		TotalCount: len(items), Offset: offset, Limit: limit,
	})
}

// getSubject answers GET /users/{id} or /teams/{id}.
func (c *call) getSubject(kind, id string) {
	if c.noQuery() {
		return
	}
	s := c.s
	s.mu.Lock()
	sub := s.subject(kind, id)
	switch {
	case sub == nil:
		s.mu.Unlock()
		c.fail(http.StatusNotFound, fmt.Sprintf("%s %q not found", kind, id), nil)
	case !c.maySeeRoles(sub.roles):
		s.mu.Unlock()
		c.forbidden("this API token may not read %s %q", kind, id)
	default:
		v := sub.render()
		s.mu.Unlock()
		c.reply(http.StatusOK, v)
	}
}

func (c *call) listTeams(string) {
	q := c.query("names", "workspaceId", "deploymentId", "offset", "limit", "sorts")
	names := q.list("names")
	ws, dep := q.one("workspaceId"), q.one("deploymentId")
	offset, limit := q.page()
	keys := q.sorts("name", "description", "createdAt", "updatedAt")
	if q.rejected(c) || !c.mayListHolders(ws, dep, "teams") {
		return
	}
	s := c.s
	s.mu.Lock()
	var items []listed[astroapi.Team]
	for i := range s.st.Teams {
		t := &s.st.Teams[i]
		if !in(names, t.Name) || !t.holds(ws, dep) {
			continue
		}
		v := s.apiTeam(t, i)
		items = append(items, listed[astroapi.Team]{
			row{id: t.ID, name: t.Name, description: t.Description, createdAt: v.CreatedAt, updatedAt: v.UpdatedAt}, v})
	}
	s.mu.Unlock()
	c.reply(http.StatusOK, teamList{
		Teams:      paginate(items, keys, offset, limit, s.opts.MaxPageSize),
		TotalCount: len(items), Offset: offset, Limit: limit,
	})
}

func (c *call) listTeamMembers(id string) {
	q := c.query("offset", "limit", "sorts")
	offset, limit := q.page()
	keys := q.sorts("username", "fullName", "createdAt")
	if q.rejected(c) {
		return
	}
	s := c.s
	s.mu.Lock()
	t, i := s.team(id)
	if t == nil {
		s.mu.Unlock()
		c.fail(http.StatusNotFound, fmt.Sprintf("team %q not found", id), nil)
		return
	}
	if !c.maySeeRoles(&t.RoleSet) {
		s.mu.Unlock()
		c.forbidden("this API token may not read team %q", id)
		return
	}
	added := s.teamCreated(t, i)
	var items []listed[astroapi.TeamMember]
	for j, m := range t.MemberIDs {
		u, _ := s.user(m)
		at := added.Add(time.Duration(j) * time.Second) // added in memberIds order
		items = append(items, listed[astroapi.TeamMember]{
			row{id: u.ID, name: u.Username, description: u.FullName, createdAt: at, updatedAt: at},
			astroapi.TeamMember{UserID: u.ID, Username: u.Username, FullName: u.FullName,
				AvatarURL: "https://avatars.example.com/" + hash(u.ID)[:16] + ".png", CreatedAt: &at},
		})
	}
	s.mu.Unlock()
	c.reply(http.StatusOK, teamMemberList{
		TeamMembers: paginate(items, keys, offset, limit, s.opts.MaxPageSize),
		TotalCount:  len(items), Offset: offset, Limit: limit,
	})
}

// setSubjectRoles replaces a user's or team's whole role set.
func (c *call) setSubjectRoles(kind, id string) {
	if c.noQuery() || c.readOnly() {
		return
	}
	if c.restricted() {
		// The body carries the organization role, which a credential
		// confined to workspaces cannot set (inferred).
		c.forbidden("this API token is confined to workspaces %s and may not set the roles of %s %q", strings.Join(c.cred.WorkspaceIDs, ", "), kind, id)
		return
	}
	s := c.s
	s.mu.Lock()
	found := s.subject(kind, id) != nil
	s.mu.Unlock()
	if !found {
		c.fail(http.StatusNotFound, fmt.Sprintf("%s %q not found", kind, id), nil)
		return
	}
	rs, fe := decodeRoleSet(c)
	if len(fe) > 0 {
		c.fail(http.StatusBadRequest, "invalid request body: "+fe[0].Message, fe)
		return
	}
	s.mu.Lock()
	sr, err := s.setRoleSet(kind, id, rs, c.subject())
	s.mu.Unlock()
	var bad *roleSetError
	switch {
	case errors.As(err, &bad):
		c.fail(http.StatusBadRequest, fmt.Sprintf("invalid roles for %s %q: %s", kind, id, bad.errs[0].Message), bad.errs)
	case err != nil:
		c.fail(http.StatusNotFound, fmt.Sprintf("%s %q not found", kind, id), nil)
	default:
		c.reply(http.StatusOK, sr)
	}
}

// roleSetError carries the field errors of a refused role set.
type roleSetError struct{ errs []astroapi.FieldError }

func (e *roleSetError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, fe := range e.errs {
		msgs[i] = fe.Field + ": " + fe.Message
	}
	return strings.Join(msgs, "; ")
}

var errNoSubject = errors.New("not found")

// setRoleSet validates rs as the whole new role set of a user or team,
// adds DEPLOYMENT_ACCESSOR and WORKSPACE_ACCESSOR where Astro would, stores it and returns the
// answer of the POST. by, when not nil, becomes updatedBy. s.mu must be held.
func (s *Server) setRoleSet(kind, id string, rs RoleSet, by *astroapi.Subject) (astroapi.SubjectRoles, error) {
	sub := s.subject(kind, id)
	if sub == nil {
		return astroapi.SubjectRoles{}, errNoSubject
	}
	rs = rs.clone()
	if fe := checkRoleSet(s.idx, kind, &rs, true); len(fe) > 0 {
		return astroapi.SubjectRoles{}, &roleSetError{fe}
	}
	addAccessors(s.idx, &rs)
	*sub.roles = rs.normalized()
	*sub.updatedAt = bump(orCreated(*sub.updatedAt, sub.createdAt))
	if by != nil {
		s.setSubjectUpdatedBy(kind, id, by)
		if kind == kindUser {
			s.stats.UserRoleWrites[id]++
		} else {
			s.stats.TeamRoleWrites[id]++
		}
	}
	out := rs.clone()
	return astroapi.SubjectRoles{
		OrganizationRole: out.OrganizationRole,
		WorkspaceRoles:   out.WorkspaceRoles,
		DeploymentRoles:  out.DeploymentRoles,
		DagRoles:         out.DagRoles,
	}, nil
}

// setSubjectUpdatedBy records who last wrote a user or team. s.mu must be
// held.
func (s *Server) setSubjectUpdatedBy(kind, id string, by *astroapi.Subject) {
	if s.subjectUpdatedBy == nil {
		s.subjectUpdatedBy = map[string]*astroapi.Subject{}
	}
	s.subjectUpdatedBy[kind+"/"+id] = by
}

// decodeRoleSet reads the body of POST /users/{id}/roles or
// /teams/{id}/roles strictly: one JSON object with organizationRole,
// workspaceRoles, deploymentRoles and dagRoles, each optional; a list
// left out (or null) is empty.
func decodeRoleSet(c *call) (RoleSet, []astroapi.FieldError) {
	return decodeObject[RoleSet](c, `{"organizationRole": ..., "workspaceRoles": [...], "deploymentRoles": [...], "dagRoles": [...]}`)
}

// SetUserRoles replaces a user's roles as POST /users/{id}/roles would,
// under the same rules (WORKSPACE_ACCESSOR included), but without HTTP,
// faults or stats: a test's way to make a concurrent change.
func (s *Server) SetUserRoles(userID string, r astroapi.UpdateUserRolesRequest) error {
	return s.setRoles(kindUser, userID, RoleSet{r.OrganizationRole, r.WorkspaceRoles, r.DeploymentRoles, r.DagRoles})
}

// SetTeamRoles replaces a team's roles as POST /teams/{id}/roles would,
// under the same rules, but without HTTP, faults or stats.
func (s *Server) SetTeamRoles(teamID string, r astroapi.UpdateTeamRolesRequest) error {
	return s.setRoles(kindTeam, teamID, RoleSet{r.OrganizationRole, r.WorkspaceRoles, r.DeploymentRoles, r.DagRoles})
}

func (s *Server) setRoles(kind, id string, rs RoleSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.setRoleSet(kind, id, rs, nil)
	if err != nil {
		return fmt.Errorf("set roles of %s %q: %w", kind, id, err)
	}
	return nil
}
