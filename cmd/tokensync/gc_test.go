package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCollectorPace runs tokensync as a process: it collects garbage at
// gcPercent unless GOGC is set, which wins.
func TestCollectorPace(t *testing.T) {
	bin := binDir(t)
	for _, tc := range []struct {
		gogc string
		want uint64
	}{
		{"", gcPercent},
		{"100", 100},
		{"50", 50},
	} {
		stats := filepath.Join(t.TempDir(), "stats.json")
		vars := map[string]string{benchMemStatsEnv: stats}
		if tc.gogc != "" {
			vars["GOGC"] = tc.gogc
		}
		cmd := exec.Command(filepath.Join(bin, "tokensync"), "version")
		cmd.Env = processEnv(bin, vars)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("GOGC=%q: tokensync version: %v\n%s", tc.gogc, err, out)
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
			t.Errorf("GOGC=%q: the collector's percent is %d, want %d", tc.gogc, got.GOGC, tc.want)
		}
	}
}
