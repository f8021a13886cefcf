// Package docs holds the user documentation (README.md's pages) and the
// tests that keep it from rotting: every relative link points at a file and
// heading that exist, and every repository path a command or code span
// names exists, so a page split or a package move cannot leave a dead
// reference behind.
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// root is the repository root, relative to this package.
const root = ".."

// pages lists README.md and every docs/*.md, relative to root.
func pages(t *testing.T, dir string) []string {
	t.Helper()
	more, err := filepath.Glob(filepath.Join(dir, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md"}
	for _, m := range more {
		rel, err := filepath.Rel(dir, m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rel)
	}
	return out
}

func TestLinksResolve(t *testing.T) {
	files := pages(t, root)
	if len(files) < 8 {
		t.Fatalf("found %v: want README.md and the docs/ pages", files)
	}
	links := 0
	for _, f := range files {
		problems, n := checkLinks(root, f)
		links += n
		for _, p := range problems {
			t.Error(p)
		}
	}
	if links < 60 {
		t.Errorf("%d relative links in %d pages: the parser lost them", links, len(files))
	}
}

func TestCodePathsExist(t *testing.T) {
	paths := 0
	for _, f := range pages(t, root) {
		problems, n := checkCodePaths(root, f)
		paths += n
		for _, p := range problems {
			t.Error(p)
		}
	}
	if paths < 50 {
		t.Errorf("%d repository paths in code spans: the parser lost them", paths)
	}
}

// TestCheckersFindWhatIsBroken: a page with a dead file link, a dead
// anchor, an anchor on a file that has no headings and a path that does not
// exist is reported once for each, and the good references pass.
func TestCheckersFindWhatIsBroken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# Top\n\nSee [ops](docs/ops.md#redrive-logfan-redrive), [gone](docs/gone.md), [here](#top), [nowhere](#nowhere).\n")
	write("docs/ops.md", "# Ops\n\n## Redrive (`logfan redrive`)\n\n## Twice\n\n## Twice\n\n"+
		"[back](../README.md#top) [second](#twice-1) [third](#twice-2) [json](../x.json#a) [web](https://example.com/#x)\n\n"+
		"```sh\ngo test ./shared/retry ./internal/gone\nlogfan routes -routes @cdk/routes.example.json\n```\n\n"+
		"`shared/retry.Do` and `cmd/logfan` and `events/generated/big.json` and [`[x](#not-a-link)`].\n")
	write("x.json", "{}\n")
	for _, d := range []string{"shared/retry", "cmd/logfan", "cdk"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("cdk/routes.example.json", "[]\n")

	var got []string
	for _, f := range []string{"README.md", filepath.Join("docs", "ops.md")} {
		p, _ := checkLinks(dir, f)
		got = append(got, p...)
		p, _ = checkCodePaths(dir, f)
		got = append(got, p...)
	}
	want := []string{
		"README.md: link docs/gone.md: no such file",
		"README.md: link #nowhere: no heading with that anchor in README.md",
		"docs/ops.md: link ../README.md#top", // exists: must not be reported
		"docs/ops.md: link #twice-2: no heading with that anchor in docs/ops.md",
		"docs/ops.md: link ../x.json#a: an anchor on a file that is not a markdown page",
		"docs/ops.md: internal/gone: no such file or directory",
	}
	for i, w := range want {
		found := slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) })
		if i == 2 {
			if found {
				t.Errorf("a good link reported: %v", got)
			}
			continue
		}
		if !found {
			t.Errorf("not reported: %q\ngot: %q", w, got)
		}
	}
	if len(got) != len(want)-1 {
		t.Errorf("got %d problems, want %d: %q", len(got), len(want)-1, got)
	}
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Troubleshooting (`logfan doctor`)":                         "troubleshooting-logfan-doctor",
		`What "nothing lost" means here`:                            "what-nothing-lost-means-here",
		"Backfill a sender's history (`logfan backfill`)":           "backfill-a-senders-history-logfan-backfill",
		"Hub mode: logs centralized by AWS":                         "hub-mode-logs-centralized-by-aws",
		"The real runtime: cold start, process memory, binary size": "the-real-runtime-cold-start-process-memory-binary-size",
		"`make test`": "make-test",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

// slug is the anchor GitHub gives a heading: lower case, punctuation but
// hyphens and underscores dropped, spaces as hyphens.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	heading  = regexp.MustCompile("^#{1,6} +(.*?) *#* *$")
	fence    = regexp.MustCompile("^ *(?:```|~~~) *([A-Za-z]*)")
	codeSpan = regexp.MustCompile("``.+?``|`[^`]*`")
	mdLink   = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
)

// page is a markdown file split into what the checks read.
type page struct {
	prose   []string // lines outside fenced blocks, code spans removed
	code    []string // command blocks' lines (sh, bash, shell) and inline code spans
	anchors map[string]bool
}

func readPage(path string) (*page, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &page{anchors: map[string]bool{}}
	seen := map[string]int{}
	inFence, commands := false, false
	for line := range strings.SplitSeq(string(raw), "\n") {
		if m := fence.FindStringSubmatch(line); m != nil {
			inFence = !inFence
			commands = inFence && slices.Contains([]string{"sh", "bash", "shell"}, m[1])
			continue
		}
		if inFence {
			if commands { // not output, JSON or SQL, whose a/b is no path
				p.code = append(p.code, line)
			}
			continue
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			s := slug(m[1])
			if n := seen[s]; n > 0 {
				p.anchors[fmt.Sprintf("%s-%d", s, n)] = true
			} else {
				p.anchors[s] = true
			}
			seen[s]++
		}
		p.code = append(p.code, codeSpan.FindAllString(line, -1)...)
		p.prose = append(p.prose, codeSpan.ReplaceAllString(line, "``"))
	}
	return p, nil
}

// checkLinks checks every relative link of file (relative to dir): the file
// it names exists and, with a #fragment, is a markdown page with a heading
// of that anchor. It returns the problems and how many links it checked.
func checkLinks(dir, file string) ([]string, int) {
	p, err := readPage(filepath.Join(dir, file))
	if err != nil {
		return []string{err.Error()}, 0
	}
	var problems []string
	n := 0
	for _, line := range p.prose {
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			path, frag, _ := strings.Cut(target, "#")
			resolved := filepath.Join(dir, file)
			if path != "" {
				resolved = filepath.Join(dir, filepath.Dir(file), path)
				if _, err := os.Stat(resolved); err != nil {
					problems = append(problems, fmt.Sprintf("%s: link %s: no such file", file, target))
					continue
				}
			}
			if frag == "" {
				continue
			}
			if !strings.HasSuffix(resolved, ".md") {
				problems = append(problems, fmt.Sprintf("%s: link %s: an anchor on a file that is not a markdown page", file, target))
				continue
			}
			q := p
			if path != "" {
				if q, err = readPage(resolved); err != nil {
					problems = append(problems, err.Error())
					continue
				}
			}
			if !q.anchors[frag] {
				rel, _ := filepath.Rel(dir, resolved)
				problems = append(problems, fmt.Sprintf("%s: link %s: no heading with that anchor in %s", file, target, rel))
			}
		}
	}
	return problems, n
}

// repoPath finds repository paths in code: a top-level source directory
// and what follows it, up to a character no path here holds (placeholders
// such as <sink> and {s3,logs} and globs end the path before them).
var repoPath = regexp.MustCompile(`(?:^|[\s"'=@(,\x60])(?:\./)?((?:cdk|cmd|events|functions|internal|shared)/[A-Za-z0-9_./-]*)`)

// checkCodePaths checks that every repository path named in file's
// commands and code spans exists, relative to dir (the commands run from
// the repository root). A path whose last element is a Go identifier
// (shared/record.Columns) needs its package; paths under the git-ignored
// events/generated/ are written by make events. It returns the problems and
// how many paths it checked.
func checkCodePaths(dir, file string) ([]string, int) {
	p, err := readPage(filepath.Join(dir, file))
	if err != nil {
		return []string{err.Error()}, 0
	}
	var problems []string
	n := 0
	seen := map[string]bool{}
	for _, code := range p.code {
		for _, m := range repoPath.FindAllStringSubmatch(code, -1) {
			path := strings.TrimRight(m[1], ".")
			if seen[path] || strings.HasPrefix(path, "events/generated/") {
				continue
			}
			seen[path] = true
			n++
			if exists(filepath.Join(dir, path)) {
				continue
			}
			if i := strings.LastIndex(path, "."); i > strings.LastIndex(path, "/") && exists(filepath.Join(dir, path[:i])) {
				continue // package.Identifier
			}
			problems = append(problems, fmt.Sprintf("%s: %s: no such file or directory (a command or code span names it)", file, path))
		}
	}
	return problems, n
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
