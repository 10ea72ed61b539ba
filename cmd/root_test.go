package cmd

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := TestIO()
	f := NewFactory(ios)
	f.Getenv = func(string) string { return "" }
	code = Run(f, args)
	return code, out.String(), errOut.String()
}

func TestExitCodesForUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"version", "extra"}, "takes 0 argument(s)"},
		{[]string{"-o", "yaml", "version"}, `invalid value "yaml" for --output`},
		{[]string{"completion", "tcsh"}, `unsupported shell "tcsh"`},
		{[]string{"completion"}, "takes 1 argument(s)"},
	}
	for _, tt := range tests {
		code, stdout, stderr := run(t, tt.args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, code, ExitUsage, stderr)
		}
		if !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "Usage:") {
			t.Errorf("%v: stderr %q lacks %q and a usage line", tt.args, stderr, tt.want)
		}
		if stdout != "" {
			t.Errorf("%v: stdout should be empty, got %q", tt.args, stdout)
		}
	}
}

func TestHelpListsCommands(t *testing.T) {
	code, stdout, _ := run(t, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"version", "completion", "--output", "--no-color", "--debug", "--show-secrets"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, stdout)
		}
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	ios, _, out, _ := TestIO()
	f := NewFactory(ios)
	opts := &versionOptions{commonOptions: newCommonOptions(f), info: func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"},
		}}, true
	}}
	if err := versionRun(opts); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "ssoctl v1.2.3") || !strings.Contains(got, "commit abc123 (modified)") {
		t.Fatalf("version output %q", got)
	}
	out.Reset()
	f.Globals.Output = "json"
	versionRun(opts)
	var v VersionInfo
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.Version != "v1.2.3" || v.Commit != "abc123" || !v.Modified {
		t.Fatalf("json %s (%v)", out.String(), err)
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_ssoctl", "zsh": "#compdef ssoctl", "fish": "complete -c ssoctl"} {
		code, stdout, stderr := run(t, "completion", shell)
		if code != 0 || !strings.Contains(stdout, marker) {
			t.Errorf("completion %s: exit %d, stdout lacks %q (stderr %q)", shell, code, marker, stderr)
		}
	}
}

func TestNoColorWhenPiped(t *testing.T) {
	code, _, stderr := run(t, "--bogus")
	if code != ExitUsage || strings.Contains(stderr, "\x1b[") {
		t.Fatalf("piped stderr carries escape codes: %q", stderr)
	}
}

// A run builds only the branch its arguments name; help, completion and
// unknown commands get the whole tree.
func TestRunBuildsOnlyTheNamedBranch(t *testing.T) {
	ios, _, _, _ := TestIO()
	f := NewFactory(ios)
	names := func(args ...string) string {
		var out []string
		for _, c := range newRootFor(f, args).Commands() {
			out = append(out, c.Name())
		}
		return strings.Join(out, ",")
	}
	all := names()
	if !strings.Contains(all, "plan") || !strings.Contains(all, "rancher") || !strings.Contains(all, "doctor") {
		t.Fatalf("whole tree: %s", all)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "token", "x"}, "inspect"},
		{[]string{"-o", "json", "--no-color", "doctor", "logout"}, "doctor"},
		{[]string{"--output=json", "rancher", "login"}, "rancher"},
		{[]string{"-ojson", "version"}, "version"},
		{[]string{"help", "inspect"}, all},
		{[]string{"completion", "bash"}, all},
		{[]string{"inspct"}, all},
		{[]string{"--bogus", "plan"}, all},
		{[]string{"--help"}, all},
	} {
		if got := names(tt.args...); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.args, got, tt.want)
		}
	}
}
