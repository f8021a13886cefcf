package invoke

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// RIEVersion is the pinned aws-lambda-rie that `make tools` installs.
const RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"

// ModuleRoot finds the folder holding go.mod, from the working directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the logfan module (no go.mod found)")
		}
		dir = parent
	}
}

// FindRIE returns the project-local aws-lambda-rie (bin/ under the module
// root), or LOGFAN_RIE when set; nothing is downloaded at run time.
func FindRIE() (string, error) {
	if p := os.Getenv("LOGFAN_RIE"); p != "" {
		return p, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "bin", "aws-lambda-rie")
	if info, err := os.Stat(p); err != nil || info.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s is missing: run `make tools` (it installs aws-lambda-rie %s)", p, RIEVersion)
	}
	return p, nil
}

// Source is how an asset's bootstrap was built, from its Go build info.
type Source struct {
	// Package is the main package's import path (e.g. .../functions/s3).
	Package string
	// GOARCH and Tags are the build's architecture and -tags.
	GOARCH, Tags string
}

// SourceOf reads the Go build info of the bootstrap in assetDir: the asset
// CDK staged is the only link from the template back to the source.
func SourceOf(assetDir string) (*Source, error) {
	bi, err := buildinfo.ReadFile(filepath.Join(assetDir, "bootstrap"))
	if err != nil {
		return nil, fmt.Errorf("asset %s: %w (run `make synth`)", assetDir, err)
	}
	s := &Source{Package: bi.Path}
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "GOARCH":
			s.GOARCH = kv.Value
		case "-tags":
			s.Tags = kv.Value
		}
	}
	return s, nil
}

// LambdaArch maps a template architecture (arm64, x86_64) to GOARCH.
func LambdaArch(arch string) string {
	if arch == "x86_64" {
		return "amd64"
	}
	return arch
}

// Build compiles src's package as the Makefile does (static, trimmed,
// same tags) but for this host's architecture into out, saying so on w
// when the template's architecture differs: an arm64 binary cannot run on
// an amd64 host.
func Build(ctx context.Context, root string, src *Source, templateArch, out string, w io.Writer) error {
	host := runtime.GOARCH
	if want := LambdaArch(templateArch); want != host {
		fmt.Fprintf(w, "building %s for linux/%s: the template's %s binary cannot run on this %s host\n", src.Package, host, templateArch, host)
	} else {
		fmt.Fprintf(w, "building %s for linux/%s\n", src.Package, host)
	}
	args := []string{"build", "-trimpath", "-o", out}
	if src.Tags != "" {
		args = append(args, "-tags", src.Tags)
	}
	args = append(args, src.Package)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+host, "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
