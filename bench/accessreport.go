package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tokensync/tokensync/access"
	"github.com/tokensync/tokensync/astroapi"
)

// reportWorkload is a `tokensync report` of the fully applied
// organization: its format and whether it expands teams.
type reportWorkload struct {
	name, format string
	expandTeams  bool
}

// reportWorkloads are the reports run on o: HTML and JSON, and, when o
// has teams, both again with --expand-teams.
func reportWorkloads(o *Org) []reportWorkload {
	out := []reportWorkload{{wlReportHTML, "html", false}, {wlReportJSON, "json", false}}
	if len(o.Teams) > 0 {
		out = append(out, reportWorkload{wlReportHTMLTeams, "html", true}, reportWorkload{wlReportJSONTeams, "json", true})
	}
	return out
}

// childRun is the tokensync invocation of w, writing its report into dir.
func (w reportWorkload) childRun(o *Org, dir, specPath string) childRun {
	out := filepath.Join(dir, fmt.Sprintf("%s-report-%s-teams-%t.%s", o.Size.Name, w.format, w.expandTeams, w.format))
	args := []string{"report", "-f", specPath, "-o", w.format, "--out", out}
	if w.expandTeams {
		args = append(args, "--expand-teams")
	}
	check := func(data []byte) error { return o.checkReportHTML(data) }
	if w.format == "json" {
		check = func(data []byte) error { return o.checkReportJSON(data, w.expandTeams) }
	}
	return childRun{args: args, out: out, checkOut: check}
}

// checkReportHTML checks that data is an HTML page that names every
// deployment. The page's layout is the renderer's own business.
func (o *Org) checkReportHTML(data []byte) error {
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("<!DOCTYPE html>")) || !bytes.Contains(data, []byte("</html>")) {
		return errors.New("the report is not an HTML page")
	}
	for _, d := range o.Deployments {
		if !bytes.Contains(data, []byte(d.Name)) {
			return fmt.Errorf("the HTML report does not name deployment %s", d.Name)
		}
	}
	return nil
}

// checkReportJSON checks that data is a JSON report of every deployment
// with exactly the principals that reach it (see ReportCells).
func (o *Org) checkReportJSON(data []byte, expandTeams bool) error {
	r, err := access.Read(data)
	if err != nil {
		return err
	}
	if len(r.Deployments) != len(o.Deployments) || !r.Spec || r.TeamsExpanded != expandTeams {
		return fmt.Errorf("the JSON report has %d deployments (want %d), spec %t, teams expanded %t (want %t)",
			len(r.Deployments), len(o.Deployments), r.Spec, r.TeamsExpanded, expandTeams)
	}
	want := o.ReportCells(expandTeams)
	for _, d := range r.Deployments {
		if len(d.Access) != want[d.ID] {
			return fmt.Errorf("the JSON report lists %d principals on deployment %s, want %d", len(d.Access), d.Name, want[d.ID])
		}
	}
	return nil
}

// impliesAccess are the workspace roles that reach every deployment of
// their workspace (Astronomer's permission docs; WORKSPACE_ACCESSOR, which
// Astro adds on its own, reaches none).
var impliesAccess = map[string]bool{
	astroapi.RoleWorkspaceOwner: true, astroapi.RoleWorkspaceOperator: true,
	astroapi.RoleWorkspaceAuthor: true, astroapi.RoleWorkspaceMember: true,
}

// ReportCells counts, by deployment id, the principals that reach each
// deployment of the fully applied organization: the tokens, users and
// teams with a deployment role on it or a workspace role on its workspace
// that implies access (no generated subject is ORGANIZATION_OWNER), and,
// with expandTeams, the members of those teams as users (once each, with
// or without access of their own).
func (o *Org) ReportCells(expandTeams bool) map[string]int {
	type principal struct {
		k Kind
		s int
	}
	reach := make([]map[principal]bool, len(o.Deployments))
	for d := range reach {
		reach[d] = map[principal]bool{}
	}
	inWorkspace := func(k Kind, s, ws int, role string) {
		if ws < 0 || !impliesAccess[role] {
			return
		}
		for d := range o.Deployments {
			if o.depWS[d] == ws {
				reach[d][principal{k, s}] = true
			}
		}
	}
	for i, t := range o.Tokens {
		inWorkspace(KindToken, i, t.Workspace, t.OwnRole)
	}
	for i, u := range o.Users {
		inWorkspace(KindUser, i, u.Workspace, userWorkspaceRole)
	}
	for i, t := range o.Teams {
		inWorkspace(KindTeam, i, t.Workspace, teamWorkspaceRole)
	}
	for _, a := range o.Want {
		reach[a.Deployment][principal{a.Kind, a.Subject}] = true
	}
	out := make(map[string]int, len(o.Deployments))
	for d, ps := range reach {
		if expandTeams {
			var teams []int
			for p := range ps {
				if p.k == KindTeam {
					teams = append(teams, p.s)
				}
			}
			for _, t := range teams {
				for _, m := range o.Teams[t].Members {
					ps[principal{KindUser, m}] = true
				}
			}
		}
		out[o.Deployments[d].ID] = len(ps)
	}
	return out
}
