package spec

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata")

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./spec -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", golden, diff)
	}
}

// dump is the golden form of a Parse or Load result: the Spec as JSON, or
// the errors one a line.
func dump(t *testing.T, s *Spec, err error) string {
	t.Helper()
	if err != nil {
		if s != nil {
			t.Errorf("got a Spec and an error")
		}
		return err.Error() + "\n"
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func yamlFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata in %s: %v", dir, err)
	}
	return files
}

// TestGoldenParse parses each file of testdata/valid (which must parse) and
// testdata/invalid (which must not), and compares the Spec or the errors
// with NAME.golden.
func TestGoldenParse(t *testing.T) {
	for _, dir := range []string{"valid", "invalid"} {
		for _, path := range yamlFiles(t, filepath.Join("testdata", dir)) {
			name := filepath.Base(path)
			t.Run(dir+"/"+name, func(t *testing.T) {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				s, err := Parse(name, data)
				if (dir == "valid") != (err == nil) {
					t.Errorf("Parse error = %v, want valid=%v", err, dir == "valid")
				}
				checkGolden(t, strings.TrimSuffix(path, ".yaml")+".golden", dump(t, s, err))
			})
		}
	}
}

// TestGoldenLoad loads each directory of testdata/load and compares the
// Spec or the errors with DIR.golden.
func TestGoldenLoad(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "load", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			s, err := Load([]string{dir})
			if s != nil {
				s.Digest = "(digest)" // tested in TestDigest; golden files have CRLF-insensitive checkouts in mind
			}
			checkGolden(t, dir+".golden", dump(t, s, err))
		})
	}
}
