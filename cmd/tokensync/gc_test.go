package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCollectorPace runs tokensync as a process: it collects garbage at
// gcPercent unless GOGC is set, which wins, or it runs the emulator.
func TestCollectorPace(t *testing.T) {
	bin := binDir(t)
	for _, tc := range []struct {
		gogc string
		args []string
		want uint64
	}{
		{"", []string{"version"}, gcPercent},
		{"", []string{"plan", "--help"}, gcPercent},
		{"100", []string{"version"}, 100},
		{"50", []string{"version"}, 50},
		{"", []string{"emulator", "--help"}, 100},
	} {
		stats := filepath.Join(t.TempDir(), "stats.json")
		vars := map[string]string{benchMemStatsEnv: stats}
		if tc.gogc != "" {
			vars["GOGC"] = tc.gogc
		}
		cmd := exec.Command(filepath.Join(bin, "tokensync"), tc.args...)
		cmd.Env = processEnv(bin, vars)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("GOGC=%q tokensync %s: %v\n%s", tc.gogc, strings.Join(tc.args, " "), err, out)
		}
		data, err := os.ReadFile(stats)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			GOGC uint64 `json:"gogc"`
		}
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if got.GOGC != tc.want {
			t.Errorf("GOGC=%q tokensync %s: the collector's percent is %d, want %d", tc.gogc, strings.Join(tc.args, " "), got.GOGC, tc.want)
		}
	}
}
