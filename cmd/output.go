package cmd

import (
	"encoding/json"
	"io"
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
// interrupted write never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
