package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/logfan/logfan/internal/cli/usage"
)

func init() {
	register("version", "print logfan's version: module version, commit and Go release", runVersion)
}

// versionUsage is what -h prints above the flags.
const versionUsage = `usage: logfan version

Prints the module version, the commit it was built from and the Go release.
`

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := usage.NewFlagSet("version", stderr, versionUsage)
	if err := usage.Parse(fs, args); err != nil {
		return err
	}
	if err := usage.NoArgs(fs); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("no build information in this binary (built without module support)")
	}
	_, err := io.WriteString(stdout, versionText(info, runtime.GOOS+"/"+runtime.GOARCH))
	return err
}

// versionText renders what the go command stamped into the binary: the
// module version (a tag, a pseudo-version from the commit, or (devel)),
// the commit and whether the tree had uncommitted changes, and the Go
// release. `go run` stamps no VCS information; `make install` does.
func versionText(info *debug.BuildInfo, platform string) string {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	out := fmt.Sprintf("logfan %s\n  module  %s\n", version, info.Main.Path)
	if rev := settings["vcs.revision"]; rev != "" {
		commit := rev
		if t := settings["vcs.time"]; t != "" {
			commit += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			commit += ", with uncommitted changes"
		}
		out += "  commit  " + commit + "\n"
	} else {
		out += "  commit  unknown: built without VCS information (go run, or -buildvcs=false); make install stamps it\n"
	}
	out += fmt.Sprintf("  go      %s %s\n", info.GoVersion, platform)
	return out
}
