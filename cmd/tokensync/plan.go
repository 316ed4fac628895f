package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/tokensync/tokensync/planfile"
	"github.com/tokensync/tokensync/render"
	"github.com/tokensync/tokensync/spec"
	"github.com/tokensync/tokensync/sync"
)

// PlanCmd is `tokensync plan`.
type PlanCmd struct {
	PlanFlags
	Output           string `env:"-" short:"o" enum:"text,json,markdown" default:"text" help:"Output format: text, json or markdown."`
	Out              string `env:"-" type:"path" help:"Also save the plan as JSON to this file, for 'tokensync apply PLAN.json'." placeholder:"PLAN.json"`
	DetailedExitcode bool   `help:"Exit 2 when there are changes, 0 when there are none."`
	Globals
}

// Run computes and shows the plan; it writes nothing to the API.
func (c *PlanCmd) Run(ctx context.Context, g *Globals, st *Streams, kctx *kong.Context) error {
	if err := c.protectVariable(kctx, st.Getenv); err != nil {
		return err
	}
	if c.Out != "" {
		if err := checkReplaceFile("--out", c.Out, st.In, append(slices.Concat(c.Files, c.Policy), g.Emulate, g.TokenFile)...); err != nil {
			return err
		}
	}
	p, err := c.makePlan(ctx, g, *st)
	if err != nil {
		if c.Output == "markdown" {
			if werr := render.MarkdownFailure(st.Out, failureReasons(*st, err), render.MarkdownOptions{}); werr != nil {
				return errors.Join(err, werr)
			}
		}
		return err
	}
	defer p.sess.close()
	meta := planfile.Meta{ToolVersion: version, SpecDigest: p.spec.Digest, SpecFiles: p.spec.Files, Options: c.options()}
	refused := p.plan.Refused()
	if c.Out != "" && !refused {
		var buf bytes.Buffer
		if err := render.JSON(&buf, p.plan, meta); err != nil {
			return err
		}
		if err := writeFileAtomic(c.Out, buf.Bytes()); err != nil {
			return fmt.Errorf("save plan: %w", err)
		}
	}
	switch c.Output {
	case "json":
		err = render.JSON(st.Out, p.plan, meta)
	case "markdown":
		err = render.Markdown(st.Out, p.plan, render.MarkdownOptions{})
	default:
		err = render.Text(st.Out, p.plan, g.colour(*st, st.OutTTY))
	}
	if err != nil {
		return err
	}
	if c.Out != "" && !refused {
		out := render.Safe(c.Out)
		fmt.Fprintf(st.Err, "Saved the plan to %s; apply it with: tokensync apply %s\n", out, out)
	}
	if refused {
		// Said on stderr too, where a CI log shows it whatever the
		// output: -o json or markdown sends the plan to a file.
		what := "apply would write nothing"
		if c.Out != "" {
			what = "not saved to " + render.Safe(c.Out)
		}
		return exitWith(exitRefused, "a guard refused the plan (%s); %s", strings.Join(refusedGuards(p.plan), ", "), what)
	}
	if c.DetailedExitcode && len(p.plan.Changes) > 0 {
		return &codeError{code: exitChanges}
	}
	return nil
}

// failureReasons are the messages of a plan's failure, one per spec error,
// redacted as on stderr (the markdown escapes them).
func failureReasons(st Streams, err error) []string {
	var list spec.ErrorList
	if errors.As(err, &list) {
		reasons := make([]string, 0, len(list))
		for _, e := range list {
			if e.More == 0 {
				reasons = append(reasons, st.redacted(e.Error()))
				continue
			}
			// The errors a capped list left out count, one each, so that
			// the markdown's "and N more" is the true number; past its
			// cap, they are not shown.
			for range e.More {
				reasons = append(reasons, "an error not shown (too many errors)")
			}
		}
		return reasons
	}
	return []string{st.errorText(err)}
}

// writeFileAtomic writes data to path as writeAtomic does.
func writeFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// refusedGuards are the names of the guards that refuse p.
func refusedGuards(p sync.Plan) []string {
	var out []string
	for _, g := range p.Guards {
		if !g.OK {
			out = append(out, g.Name)
		}
	}
	return out
}
