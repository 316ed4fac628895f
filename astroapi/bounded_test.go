package astroapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countingWriter counts the bytes a test server sends.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return w.ResponseWriter.Write(p)
}

// tokenPage is a page of n tokens whose ids start at first.
func tokenPage(first, n int) []Token {
	page := make([]Token, n)
	for i := range page {
		page[i] = Token{ID: fmt.Sprintf("tok-%09d", first+i), Name: "t"}
	}
	return page
}

// TestListsThatNeverEndAreRefused serves lists that never end to a client
// with the default rate limits and page size, and checks that each is
// refused with a clear error within seconds and a few MB. A list of new
// items that never ends cannot be told from a long one until a cap; those
// cases run with lower caps.
func TestListsThatNeverEndAreRefused(t *testing.T) {
	const (
		maxTime  = 10 * time.Second
		maxBytes = 8 << 20
	)
	full := tokenPage(0, DefaultPageSize)
	tests := []struct {
		name    string
		page    func(offset, n int) map[string]any // n counts requests from 0
		limits  bool                               // lower the item and page caps, to keep the test short
		wantErr string
	}{
		{
			name:    "the same page repeated with a huge totalCount",
			page:    func(int, int) map[string]any { return map[string]any{"tokens": full, "totalCount": 1 << 40} },
			wantErr: "the list claims 1099511627776 items, more than the 100000 this client reads",
		},
		{
			name:    "the same page repeated with a plausible totalCount",
			page:    func(int, int) map[string]any { return map[string]any{"tokens": full, "totalCount": 90_000} },
			wantErr: "the list does not advance: the page at offset 1000 holds only items of earlier pages (1000 items read)",
		},
		{
			name: "a server that ignores the offset",
			page: func(int, int) map[string]any {
				return map[string]any{"tokens": tokenPage(0, 10), "totalCount": 50_000, "offset": 0}
			},
			wantErr: "the list does not advance: the page at offset 10 holds only items of earlier pages (10 items read)",
		},
		{
			name:    "no totalCount and the same non-empty page forever",
			page:    func(int, int) map[string]any { return map[string]any{"tokens": full} },
			wantErr: "the list does not advance",
		},
		{
			name: "no totalCount and new non-empty pages forever",
			page: func(offset, _ int) map[string]any {
				return map[string]any{"tokens": tokenPage(offset, DefaultPageSize)}
			},
			limits:  true,
			wantErr: "list did not end after 6000 items, more than the 5000 this client reads",
		},
		{
			name:    "no totalCount and new one-item pages forever",
			page:    func(offset, _ int) map[string]any { return map[string]any{"tokens": tokenPage(offset, 1)} },
			limits:  true,
			wantErr: "list did not end after 50 pages (50 items)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int64
			var n atomic.Int64
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
				writeJSON(countingWriter{w, &sent}, http.StatusOK, tt.page(offset, int(n.Add(1)-1)))
			}))
			t.Cleanup(ts.Close)
			c, err := New(ts.URL+"/v1", WithCredential(testSecret), WithHTTPClient(ts.Client()))
			if err != nil {
				t.Fatal(err)
			}
			if tt.limits {
				c.maxItems, c.maxPages = 5000, 50
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			start := time.Now()
			got, err := c.Tokens(ctx, "o", TokenFilter{})
			took := time.Since(start)
			t.Logf("%d requests, %d bytes, %s: %v", n.Load(), sent.Load(), took.Round(time.Millisecond), err)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Tokens = %d tokens, error %v; want an error containing %q", len(got), err, tt.wantErr)
			}
			if took > maxTime {
				t.Errorf("refused after %s, want within %s", took, maxTime)
			}
			if b := sent.Load(); b > maxBytes {
				t.Errorf("read %d bytes before refusing, want at most %d", b, maxBytes)
			}
		})
	}
}

// TestListDropsLaterDuplicates checks that an id seen again on a later page
// (an item that moved while the list was read) is kept once, where it was
// first seen, so that every caller of a list gets each item once.
func TestListDropsLaterDuplicates(t *testing.T) {
	pages := map[string][]Token{
		"0": {{ID: "a"}, {ID: "b", Name: "first"}},
		"2": {{ID: "b", Name: "again"}, {ID: "c"}},
		"4": {{ID: "d"}},
	}
	ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, rec request, _ int) {
		writeJSON(w, http.StatusOK, map[string]any{"tokens": pages[rec.Query.Get("offset")], "totalCount": 5})
	})
	c := newTestClient(t, ts, WithPageSize(2))
	got, err := c.Tokens(t.Context(), "o", TokenFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Token{{ID: "a"}, {ID: "b", Name: "first"}, {ID: "c"}, {ID: "d"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tokens (-want +got):\n%s", diff)
	}
}

// TestListItemWithoutIDIsRefused checks that a list item without an id is
// an error, not an item that could not be told from another.
func TestListItemWithoutIDIsRefused(t *testing.T) {
	ts, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ request, _ int) {
		writeJSON(w, http.StatusOK, map[string]any{"deployments": []Deployment{{ID: "d1"}, {Name: "nameless"}}, "totalCount": 2})
	})
	c := newTestClient(t, ts)
	_, err := c.Deployments(t.Context(), "o", DeploymentFilter{})
	const want = "GET /organizations/o/deployments: item 1 at offset 0 has no id"
	if err == nil || err.Error() != want {
		t.Errorf("Deployments error = %v, want %q", err, want)
	}
}
