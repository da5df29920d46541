package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// buildVersion is what a binary knows about its own build: the module
// version ("(devel)" for a build from a source tree) and, when it was built
// in a git checkout, the commit, its time, and whether files had changed.
type buildVersion struct {
	Module   string
	Revision string
	Time     string
	Modified bool
	Go       string
}

// readVersion reads the running binary's build information.
func readVersion() buildVersion {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return buildVersion{Module: "unknown", Go: runtime.Version()}
	}
	return versionOf(info)
}

// versionOf extracts a buildVersion from info.
func versionOf(info *debug.BuildInfo) buildVersion {
	v := buildVersion{Module: info.Main.Version, Go: info.GoVersion}
	if v.Module == "" {
		v.Module = "unknown"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String returns one line, e.g.
// "pregon (devel), commit 1f2a1bb3c4d5 (2026-12-04T15:00:00Z, modified), go1.26.8".
func (v buildVersion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pregon %s", v.Module)
	if v.Revision != "" {
		fmt.Fprintf(&b, ", commit %s", v.Revision[:min(12, len(v.Revision))])
		var detail []string
		if v.Time != "" {
			detail = append(detail, v.Time)
		}
		if v.Modified {
			detail = append(detail, "modified")
		}
		if len(detail) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(detail, ", "))
		}
	} else {
		b.WriteString(", no commit recorded (built outside a git checkout)")
	}
	if v.Go != "" {
		fmt.Fprintf(&b, ", %s", v.Go)
	}
	return b.String()
}

// attrs returns v as log attributes, for the startup line.
func (v buildVersion) attrs() []any {
	return []any{"version", v.Module, "revision", v.Revision, "vcs_time", v.Time, "modified", v.Modified, "go", v.Go}
}
