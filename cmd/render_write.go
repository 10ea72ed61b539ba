package cmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ssoctl/ssoctl/spec"
	"github.com/ssoctl/ssoctl/templates/django"
)

// renderManifest records what a render wrote, so the next one knows which
// files are its own.
const renderManifest = "keycloak_sso/.ssoctl-render.json"

// renderApp is the directory every rendered path lies in.
const renderApp = "keycloak_sso/"

// maxRenderedFile bounds what render reads of a file already in place (its
// own files are a few KB; a larger one is not its own) and of the manifest.
const maxRenderedFile = 1 << 20

// writeRendered writes files under dir. A file that exists and that the
// last render did not write (or that was edited since) is refused unless
// force; files the last render wrote and this one does not are removed.
//
// Every target is checked before anything is written: below dir no
// component may be a symlink, each file is a regular file or missing (a
// FIFO, device or directory is refused without being opened), and the
// manifest's paths must be clean paths inside keycloak_sso/. A refusal
// leaves dir as it was; each file is then written by rename, inside an
// os.Root of dir, the manifest last.
func writeRendered(dir string, files []django.File, force bool) error {
	root, err := openRenderDir(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	shown := func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }

	prev, err := readRenderManifest(root, dir)
	if err != nil {
		return err
	}
	foreign, stale, err := renderChanges(root, dir, files, prev)
	if err != nil {
		return err
	}
	if len(foreign) > 0 && !force {
		return inputErrorf("%s: refusing to overwrite files that ssoctl did not write (or that were edited since): %s; pass --force to overwrite them",
			dir, strings.Join(foreign, ", "))
	}

	for _, f := range files {
		if err := root.MkdirAll(path.Dir(f.Path), 0o755); err != nil {
			return err
		}
		if err := writeAtomicIn(root, f.Path, shown(f.Path), f.Data); err != nil {
			return err
		}
	}
	for _, p := range stale {
		// No longer rendered (the site dropped its api:, say).
		if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	m, err := json.MarshalIndent(files, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomicIn(root, renderManifest, shown(renderManifest), append(m, '\n'))
}

// openRenderDir opens --out as the root every write stays under, making
// it when it does not exist.
func openRenderDir(dir string) (*os.Root, error) {
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, inputErrorf("--out %s: %v", dir, err)
		}
	case err != nil:
		return nil, inputErrorf("--out %s: %v", dir, err)
	case !fi.IsDir():
		return nil, inputErrorf("--out %s is %s, not a directory: name the Django project's directory", dir, fileKind(fi.Mode()))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, inputErrorf("--out %s: %v", dir, err)
	}
	return root, nil
}

// renderChanges is what this render writes over and what it will remove:
// the files in the way that the last render (prev, its manifest) did not
// write as they are (foreign), and the last render's files that it no
// longer writes and that are still as written (stale).
func renderChanges(root *os.Root, dir string, files []django.File, prev map[string]string) (foreign, stale []string, err error) {
	for _, f := range files {
		cur, err := readRenderTarget(root, dir, f.Path)
		if err != nil {
			return nil, nil, err
		}
		if cur != nil && renderSum(cur) != f.SHA256 && renderSum(cur) != prev[f.Path] {
			foreign = append(foreign, f.Path)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(prev)) {
		if slices.ContainsFunc(files, func(f django.File) bool { return f.Path == p }) {
			continue
		}
		cur, err := readRenderTarget(root, dir, p)
		if err != nil {
			return nil, nil, err
		}
		if cur != nil && renderSum(cur) == prev[p] {
			stale = append(stale, p)
		}
	}
	if _, err := readRenderTarget(root, dir, renderManifest); err != nil {
		return nil, nil, err
	}
	return foreign, stale, nil
}

func renderSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readRenderTarget reads the file at p (slash-separated, inside root, which
// is the directory dir) when it is there: nil when it is not. Every directory on the way must be a
// directory, not a symlink, and the file a regular file no larger than
// maxRenderedFile (a larger one is returned cut short, so it matches no
// rendered file); anything else is refused without opening it.
func readRenderTarget(root *os.Root, dir, p string) ([]byte, error) {
	shown := filepath.Join(dir, filepath.FromSlash(p))
	parts := strings.Split(p, "/")
	for i := 1; i <= len(parts); i++ {
		sub := strings.Join(parts[:i], "/")
		fi, err := root.Lstat(sub)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, inputErrorf("%v", err)
		}
		last := i == len(parts)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return nil, inputErrorf("%s is a symlink: render writes only real directories and files below --out; remove it, or render into another directory",
				filepath.Join(dir, filepath.FromSlash(sub)))
		case !last && !fi.IsDir():
			return nil, inputErrorf("%s is %s, where render needs a directory", filepath.Join(dir, filepath.FromSlash(sub)), fileKind(fi.Mode()))
		case last && !fi.Mode().IsRegular():
			return nil, inputErrorf("%s is %s: render writes only regular files; remove it", shown, fileKind(fi.Mode()))
		}
	}
	f, err := root.OpenFile(p, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, inputErrorf("%v", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, inputErrorf("%s changed while render read it", shown)
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, io.LimitReader(f, maxRenderedFile+1)); err != nil {
		return nil, inputErrorf("reading %s: %v", shown, err)
	}
	return b.Bytes(), nil
}

// readRenderManifest reads the last render's manifest: each rendered path
// with its sha256. A manifest that is not one, or that names a path outside
// keycloak_sso/ (../, absolute, not clean), is refused: render must never
// delete or trust a file by a name someone else planted.
func readRenderManifest(root *os.Root, dir string) (map[string]string, error) {
	shown := filepath.Join(dir, filepath.FromSlash(renderManifest))
	b, err := readRenderTarget(root, dir, renderManifest)
	if err != nil || b == nil {
		return map[string]string{}, err
	}
	bad := func(why string) error {
		return inputErrorf("%s %s; it is not one render wrote: remove it (files it listed are then treated as not ssoctl's)", shown, why)
	}
	if len(b) > maxRenderedFile {
		return nil, bad(fmt.Sprintf("is larger than %d bytes", maxRenderedFile))
	}
	var m []django.File
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, bad("is not a render manifest (" + err.Error() + ")")
	}
	prev := map[string]string{}
	for _, f := range m {
		p := f.Path
		switch {
		case !strings.HasPrefix(p, renderApp) || path.Clean(p) != p || !filepath.IsLocal(filepath.FromSlash(p)) ||
			strings.ContainsAny(p, "\\\x00") || p == renderManifest:
			return nil, bad(fmt.Sprintf("lists the path %s, which is not a clean path inside %s", spec.Quote(p), renderApp))
		case len(f.SHA256) != sha256.Size*2 || strings.Trim(f.SHA256, "0123456789abcdef") != "":
			return nil, bad(fmt.Sprintf("gives %s as a sha256", spec.Quote(f.SHA256)))
		case prev[p] != "":
			return nil, bad(fmt.Sprintf("lists %s twice", p))
		}
		prev[p] = f.SHA256
	}
	return prev, nil
}
