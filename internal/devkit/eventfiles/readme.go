package eventfiles

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/logfan/logfan/shared/subscription"
)

// ReadmeName is the documentation file written at the top of the output directory.
const ReadmeName = "README.md"

// readmeData is what the README template sees.
type readmeData struct {
	// Files are all event files, in manifest order.
	Files []FileExpectation
	// LambdaLimit is Lambda's invocation payload limit in bytes.
	LambdaLimit int
	// MaxDecompressed is the decoder cap the poison records assume.
	MaxDecompressed int64
	// Poison documents every poison kind, sorted by kind.
	Poison []PoisonExpectation
}

var readmeFuncs = template.FuncMap{
	"bytes": humanBytes,
	"join":  strings.Join,
	"pct":   func(a, b int) string { return fmt.Sprintf("%.2f%%", 100*float64(a)/float64(b)) },
	"sub":   func(a, b int) int { return a - b },
	"committed": func(fe FileExpectation) bool {
		return Committed(fe.Path)
	},
	// short abbreviates a long ID for tables.
	"short": func(s string) string {
		if len(s) <= 12 {
			return s
		}
		return "…" + s[len(s)-8:]
	},
	// cell makes a value safe inside a Markdown table cell.
	"cell": func(s string) string { return strings.ReplaceAll(s, "|", `\|`) },
}

func renderReadme(m *Manifest, files []FileExpectation) ([]byte, error) {
	t, err := template.New(m.Readme).Funcs(readmeFuncs).Funcs(template.FuncMap{
		"file": func(p string) (*FileExpectation, error) {
			for i := range files {
				if files[i].Path == p {
					return &files[i], nil
				}
			}
			return nil, fmt.Errorf("no event file %q in the manifest", p)
		},
	}).Option("missingkey=error").Parse(m.readme)
	if err != nil {
		return nil, fmt.Errorf("parse README template: %w", err)
	}
	d := readmeData{Files: files, LambdaLimit: LambdaPayloadLimit, MaxDecompressed: subscription.DefaultMaxDecompressed}
	for _, k := range PoisonKinds() {
		d.Poison = append(d.Poison, PoisonExpectation{Kind: k, Error: poisonKinds[k].errName, Reason: poisonKinds[k].reason})
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("render README template: %w", err)
	}
	return buf.Bytes(), nil
}
