package cmd

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ssoctl/ssoctl/spec"
)

// writeJSON writes v indented, with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeYAML writes header and then v as YAML.
func writeYAML(w io.Writer, v any, header string) error {
	b, err := spec.Marshal(v)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, header+string(b))
	return err
}

// writeFileAtomic writes data next to path and renames it into place, so an
// interrupted write never leaves half a file. Only a regular file (or none)
// is replaced: a symlink, FIFO, device or directory at path is refused. An
// existing file keeps its mode; a new one is 0644. The temporary file is
// removed on every failure.
func writeFileAtomic(path string, data []byte) (err error) {
	mode := os.FileMode(0o644)
	switch fi, statErr := os.Lstat(path); {
	case statErr == nil && !fi.Mode().IsRegular():
		return inputErrorf("%s is not a regular file (%s): refusing to replace it", path, fileKind(fi.Mode()))
	case statErr == nil:
		mode = fi.Mode().Perm()
	case !errors.Is(statErr, fs.ErrNotExist):
		return inputErrorf("%v", statErr)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return inputErrorf("%v", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// fileKind names a file type in messages.
func fileKind(m fs.FileMode) string { return spec.FileKind(m) }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
