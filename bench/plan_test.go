package main

import (
	"bytes"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/tokensync/tokensync/astroapi"
	"github.com/tokensync/tokensync/astroapi/astroapitest"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
	"go.yaml.in/yaml/v3"
)

// BenchmarkPlanX measures, in process, the two costs of planning X (the
// every-level organization) that do not depend on the planner: parsing
// its deployment-level spec (parse), the YAML stage of parsing its
// every-level spec (every-level-yaml) and reading the organization, one
// paged list per family (observe; the emulator serves the pages in the
// same process, so its encoding is in the figures too). Run it with
// -cpuprofile to see where each goes:
//
//	go test ./bench -run '^$' -bench PlanX -benchtime 3x -cpuprofile cpu.out
func BenchmarkPlanX(b *testing.B) {
	o, err := Generate(sizes[slices.IndexFunc(sizes, func(z Size) bool { return z.Name == "X" })], seed)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		data := o.SpecYAML()
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := spec.Parse("tokens.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("every-level-yaml", func(b *testing.B) {
		// The first stage of spec.Parse (a yaml.Node tree of the whole
		// file) on the spec of every level, until spec.Parse reads it.
		data := o.EveryLevelSpecYAML()
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var n yaml.Node
			if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("observe", func(b *testing.B) {
		hs := httptest.NewServer(astroapitest.NewServer(o.State(nil), astroapitest.Options{}))
		defer hs.Close()
		c, err := astroapi.New(hs.URL+"/v1", astroapi.WithCredential("bench-credential"), astroapi.WithRateLimits(0, 0, 0))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sync.NewEngine(c, o.ID).Observe(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
