package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// VersionInfo is what `ssoctl version` reports, all of it read from the
// binary's build info.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Modified  bool   `json:"modified"`
	GoVersion string `json:"go_version"`
}

type versionOptions struct {
	commonOptions
	info func() (*debug.BuildInfo, bool)
}

func newVersionCmd(f *Factory, runF func(*versionOptions) error) *cobra.Command {
	opts := &versionOptions{commonOptions: newCommonOptions(f), info: debug.ReadBuildInfo}
	return &cobra.Command{
		Use:   "version",
		Short: "Print ssoctl's version and commit",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCommand(cmd, opts, runF, versionRun)
		},
	}
}

func readVersion(info func() (*debug.BuildInfo, bool)) VersionInfo {
	v := VersionInfo{Version: "(unknown)", Commit: "(unknown)", GoVersion: runtime.Version()}
	bi, ok := info()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func versionRun(opts *versionOptions) error {
	v := readVersion(opts.info)
	out := opts.IO.Out
	if opts.Globals.JSON() {
		return writeJSON(out, v)
	}
	commit := v.Commit
	if v.Modified {
		commit += " (modified)"
	}
	_, err := fmt.Fprintf(out, "ssoctl %s\ncommit %s\n%s\n", v.Version, commit, v.GoVersion)
	return err
}
