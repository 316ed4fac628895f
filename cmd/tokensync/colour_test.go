package main

import "testing"

// TestColourDecision is the whole table of Globals.colour.
func TestColourDecision(t *testing.T) {
	tests := []struct {
		name    string
		tty     bool
		noColor bool // --no-color
		env     map[string]string
		want    bool
	}{
		{name: "terminal", tty: true, want: true},
		{name: "pipe", want: false},
		{name: "FORCE_COLOR off a terminal", env: map[string]string{"FORCE_COLOR": "1"}, want: true},
		{name: "CLICOLOR_FORCE off a terminal", env: map[string]string{"CLICOLOR_FORCE": "yes"}, want: true},
		{name: "FORCE_COLOR=0 forces nothing", env: map[string]string{"FORCE_COLOR": "0"}, want: false},
		{name: "CLICOLOR_FORCE=0 on a terminal", tty: true, env: map[string]string{"CLICOLOR_FORCE": "0"}, want: true},
		{name: "TERM=dumb on a terminal", tty: true, env: map[string]string{"TERM": "dumb"}, want: false},
		{name: "FORCE_COLOR beats TERM=dumb", env: map[string]string{"TERM": "dumb", "FORCE_COLOR": "1"}, want: true},
		{name: "NO_COLOR beats FORCE_COLOR", tty: true, env: map[string]string{"NO_COLOR": "1", "FORCE_COLOR": "1"}, want: false},
		{name: "--no-color beats CLICOLOR_FORCE", tty: true, noColor: true, env: map[string]string{"CLICOLOR_FORCE": "1"}, want: false},
		{name: "TERM=xterm off a terminal", env: map[string]string{"TERM": "xterm-256color"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Globals{NoColor: tt.noColor}
			st := Streams{Getenv: func(k string) string { return tt.env[k] }}
			if got := g.colour(st, tt.tty); got != tt.want {
				t.Errorf("colour = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestForcedColourReachesThePlan: FORCE_COLOR colours plan output in a
// pipe, as in a CI log.
func TestForcedColourReachesThePlan(t *testing.T) {
	c := newCLI(t, testState)
	f := c.write("tokens.yaml", mainSpec)
	c.env["FORCE_COLOR"] = "1"
	r := c.run("plan", "-f", f)
	if !containsEscape(r.stdout) {
		t.Errorf("FORCE_COLOR: no colour in a pipe:\n%q", r.stdout)
	}
	c.env["NO_COLOR"] = "1"
	if r := c.run("plan", "-f", f); containsEscape(r.stdout) {
		t.Errorf("NO_COLOR with FORCE_COLOR: colour in the output")
	}
}

func containsEscape(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == 0x1b && s[i+1] == '[' {
			return true
		}
	}
	return false
}
