package astroapi

import "time"

// Token kinds, as the API spells them in ApiToken.kind. A DIRECT_ACCESS
// token copied its role's permissions when it was created.
const (
	TokenStandard     = "STANDARD"
	TokenDirectAccess = "DIRECT_ACCESS"
)

// Token is an Astro API token (ApiToken). The API never returns the secret
// on GET or list, so Token has no field for it. The hygiene fields are
// nil when the API leaves them out: EndAt when the token never expires,
// LastUsedAt when it was never used, LastRotatedAt when it was never
// rotated.
type Token struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name"`
	Description        string     `json:"description"`
	ShortToken         string     `json:"shortToken,omitempty"`
	Scope              string     `json:"scope"`
	Kind               string     `json:"kind,omitempty"`
	StartAt            *time.Time `json:"startAt,omitempty"`
	EndAt              *time.Time `json:"endAt,omitempty"`
	ExpiryPeriodInDays int        `json:"expiryPeriodInDays,omitempty"`
	LastUsedAt         *time.Time `json:"lastUsedAt,omitempty"`
	LastRotatedAt      *time.Time `json:"lastRotatedAt,omitempty"`
	CreatedAt          time.Time  `json:"createdAt"`
	UpdatedAt          time.Time  `json:"updatedAt"`
	CreatedBy          *Subject   `json:"createdBy,omitempty"`
	UpdatedBy          *Subject   `json:"updatedBy,omitempty"`
	Roles              []Role     `json:"roles"`
}

// Subject is who created or updated an object (BasicSubjectProfile).
type Subject struct {
	ID           string `json:"id"`
	SubjectType  string `json:"subjectType,omitempty"`
	Username     string `json:"username,omitempty"`
	FullName     string `json:"fullName,omitempty"`
	APITokenName string `json:"apiTokenName,omitempty"`
}

// Role is one entry of a token's role list (ApiTokenRole). DeploymentID is
// set only on DAG and DAG_TAG entries.
type Role struct {
	EntityID     string `json:"entityId"`
	EntityType   string `json:"entityType"`
	Role         string `json:"role"`
	DeploymentID string `json:"deploymentId,omitempty"`
}

// SubjectRoles is the answer of POST /tokens/{id}/roles,
// /users/{id}/roles and /teams/{id}/roles. DagRoles is set for users and
// teams only.
type SubjectRoles struct {
	OrganizationRole string           `json:"organizationRole,omitempty"`
	WorkspaceRoles   []WorkspaceRole  `json:"workspaceRoles,omitempty"`
	DeploymentRoles  []DeploymentRole `json:"deploymentRoles,omitempty"`
	DagRoles         []DagRole        `json:"dagRoles,omitempty"`
}

// WorkspaceRole is a workspace entry of SubjectRoles.
type WorkspaceRole struct {
	WorkspaceID string `json:"workspaceId"`
	Role        string `json:"role"`
}

// DeploymentRole is a deployment entry of SubjectRoles.
type DeploymentRole struct {
	DeploymentID string `json:"deploymentId"`
	Role         string `json:"role"`
}

// DagRole is a DAG entry of a user's or team's roles: a role on one DAG
// (DagID) or on every DAG with a tag (DagTag) of a deployment; exactly one
// of DagID and DagTag is set.
type DagRole struct {
	DeploymentID string `json:"deploymentId"`
	DagID        string `json:"dagId,omitempty"`
	DagTag       string `json:"dagTag,omitempty"`
	Role         string `json:"role"`
}

// Deployment holds the fields of an Astro Deployment that tokensync needs.
type Deployment struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	WorkspaceID    string    `json:"workspaceId"`
	WorkspaceName  string    `json:"workspaceName,omitempty"`
	OrganizationID string    `json:"organizationId,omitempty"`
	Namespace      string    `json:"namespace,omitempty"`
	Status         string    `json:"status,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Workspace is an Astro Workspace.
type Workspace struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	OrganizationID string    `json:"organizationId,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// CustomRole is an organization's own role (Role in the API).
type CustomRole struct {
	ID                     string    `json:"id"`
	Name                   string    `json:"name"`
	Description            string    `json:"description"`
	ScopeType              string    `json:"scopeType"`
	RestrictedWorkspaceIDs []string  `json:"restrictedWorkspaceIds"`
	CreatedAt              time.Time `json:"createdAt"`
	CreatedBy              *Subject  `json:"createdBy,omitempty"`
	UpdatedAt              time.Time `json:"updatedAt"`
	UpdatedBy              *Subject  `json:"updatedBy,omitempty"`
}

// RoleWithPermission is one custom role with its permissions, the answer
// of GET /roles/{roleId}.
type RoleWithPermission struct {
	ID                     string    `json:"id"`
	Name                   string    `json:"name"`
	Description            string    `json:"description"`
	ScopeType              string    `json:"scopeType"`
	Permissions            []string  `json:"permissions"`
	RestrictedWorkspaceIDs []string  `json:"restrictedWorkspaceIds"`
	CreatedAt              time.Time `json:"createdAt"`
	CreatedBy              *Subject  `json:"createdBy,omitempty"`
	UpdatedAt              time.Time `json:"updatedAt"`
	UpdatedBy              *Subject  `json:"updatedBy,omitempty"`
}

// DefaultRole is a built-in role; it has no id.
type DefaultRole struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	ScopeType   string   `json:"scopeType"`
}

// Roles is the answer of GET /roles, all pages drained.
type Roles struct {
	Custom  []CustomRole
	Default []DefaultRole
}

// TokenFilter selects tokens in Client.Tokens. Zero values mean no filter.
type TokenFilter struct {
	WorkspaceID                   string
	DeploymentID                  string
	IncludeOnlyOrganizationTokens bool
	Sorts                         []string // e.g. "name:asc"
}

// DeploymentFilter selects deployments in Client.Deployments.
type DeploymentFilter struct {
	DeploymentIDs []string
	WorkspaceIDs  []string
	Names         []string
}

// WorkspaceFilter selects workspaces in Client.Workspaces.
type WorkspaceFilter struct {
	WorkspaceIDs []string
	Names        []string
}

// RoleFilter selects roles in Client.Roles.
type RoleFilter struct {
	ScopeTypes          []string // ORGANIZATION, WORKSPACE, DEPLOYMENT, DAG
	IncludeDefaultRoles bool
}

// ErrorBody is the JSON body of every 4xx/5xx answer.
type ErrorBody struct {
	Message     string       `json:"message"`
	RequestID   string       `json:"requestId"`
	StatusCode  int          `json:"statusCode"`
	FieldErrors []FieldError `json:"fieldErrors,omitempty"`
}

// FieldError names one invalid field of a request (400 only).
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}
