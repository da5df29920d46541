package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestProblemCodesWritten: every problem code the API's source gives
// (p.coded("code", "name", value, ...)) is in ProblemCodes with exactly
// the values it names, and every code there is given somewhere.
func TestProblemCodesWritten(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := ProblemCodes()
	given := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "coded" {
				return true
			}
			var strs []string
			for i, a := range call.Args {
				if i > 0 && i%2 == 0 {
					continue // a value
				}
				lit, ok := a.(*ast.BasicLit)
				s, err := strconv.Unquote(litValue(lit, ok))
				if err != nil {
					t.Errorf("%s: coded with a code or value name that is not a string literal", fset.Position(a.Pos()))
					return true
				}
				strs = append(strs, s)
			}
			if len(strs) == 0 {
				return true
			}
			code, names := strs[0], strs[1:]
			given[code] = true
			want, ok := codes[code]
			if !ok {
				t.Errorf("%s: code %q is not in ProblemCodes", fset.Position(call.Pos()), code)
				return true
			}
			slices.Sort(names)
			want = slices.Sorted(slices.Values(want))
			if !slices.Equal(names, want) {
				t.Errorf("%s: code %q given values %v, ProblemCodes says %v", fset.Position(call.Pos()), code, names, want)
			}
			return true
		})
	}
	for code := range codes {
		if !given[code] {
			t.Errorf("ProblemCodes has %q, which no problem is given", code)
		}
	}
}

func litValue(lit *ast.BasicLit, ok bool) string {
	if !ok || lit.Kind != token.STRING {
		return ""
	}
	return lit.Value
}

// TestProblemsCarryCodes: representative problems carry their code and
// values next to the English detail, which is as it was.
func TestProblemsCarryCodes(t *testing.T) {
	h, id := editHarness(t)
	h.patch(id, `{"title": "Segundo título", "version": 1}`, http.StatusOK)
	_, p := h.patch(id, `{"title": "Tercer título", "version": 1}`, http.StatusConflict)
	want := "The release is at version 2, not 1: it changed since you read it. Read it again (GET /v1/releases/" + id + ") and check version 2."
	if p.Detail != want || p.Code != "release.version_conflict" || !cmp.Equal(p.Args, map[string]any{"current": 2.0}) {
		t.Errorf("stale version: detail %q, code %q, args %v", p.Detail, p.Code, p.Args)
	}

	p = problemOf(t, h.do("POST", "/v1/releases/"+id+"/approve", coordToken, "application/json", `{"version": 2}`), http.StatusForbidden)
	if p.Detail != `You wrote this release (as "coordinator-token"); a coordinator other than its author must approve it.` ||
		p.Code != "release.own" || p.Args != nil {
		t.Errorf("approval by the author: detail %q, code %q, args %v", p.Detail, p.Code, p.Args)
	}

	h.mustJSON("POST", "/v1/releases/"+id+"/send", `{}`, http.StatusAccepted, nil)
	_, p = h.patch(id, `{"title": "Otro"}`, http.StatusConflict)
	if !strings.HasPrefix(p.Detail, "The release is sending; it can no longer be edited") || p.Code != "release.sending" {
		t.Errorf("edit while sending: detail %q, code %q", p.Detail, p.Code)
	}

	p = problemOf(t, h.do("POST", "/v1/telegram/channels/tgc_nothere/enable", coordToken, "application/json", ``), http.StatusNotFound)
	if p.Detail != "There is no Telegram channel tgc_nothere." || p.Code != "not_found" || p.Args != nil {
		t.Errorf("unknown channel: detail %q, code %q, args %v", p.Detail, p.Code, p.Args)
	}

	// A problem without a code has none in its JSON.
	w := h.do("PATCH", "/v1/releases/"+id, coordToken, "application/json", `{"title": `)
	if p := problemOf(t, w, http.StatusBadRequest); p.Code != "" || strings.Contains(w.Body.String(), `"code"`) {
		t.Errorf("bad JSON: code %q in %s", p.Code, w.Body)
	}
}
