package cmd

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

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
func writeFileAtomic(path string, data []byte) error {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return inputErrorf("%v", err)
	}
	defer root.Close()
	return writeAtomicIn(root, filepath.Base(path), path, data)
}

// writeAtomicIn is writeFileAtomic for name inside root (shown as shown in
// messages): the temporary file is made beside name, in root.
func writeAtomicIn(root *os.Root, name, shown string, data []byte) (err error) {
	mode := os.FileMode(0o644)
	switch fi, statErr := root.Lstat(name); {
	case statErr == nil && !fi.Mode().IsRegular():
		return inputErrorf("%s is not a regular file (%s): refusing to replace it", shown, fileKind(fi.Mode()))
	case statErr == nil:
		mode = fi.Mode().Perm()
	case !errors.Is(statErr, fs.ErrNotExist):
		return inputErrorf("%v", statErr)
	}
	var tmp *os.File
	var tmpName string
	for i := 0; tmp == nil; i++ {
		tmpName = filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+"."+strconv.FormatInt(time.Now().UnixNano()%1e9+int64(i), 36))
		tmp, err = root.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil && (!errors.Is(err, fs.ErrExist) || i == 9) {
			return inputErrorf("%v", err)
		}
	}
	defer func() {
		if err != nil {
			tmp.Close()
			root.Remove(tmpName)
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
	return root.Rename(tmpName, name)
}

// fileKind names a file type in messages.
func fileKind(m fs.FileMode) string { return spec.FileKind(m) }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
