package gitsync

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	corev1 "k8s.io/api/core/v1"
)

const (
	cipherMarker = "ENC[AES256_GCM,data:c2VjcmV0,type:str]"
	plainMarker  = "PLAINTEXT-only-in-memory-5b7e21"
)

const encryptedSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: "` + cipherMarker + `"
`

// Every manifest passes through Decrypt, with its path relative to Path;
// the plaintext reaches the desired state and nothing on disk.
func TestDecryptHookPlaintextStaysInMemory(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	s.write(map[string]string{
		"apps/deploy.yaml":     deployment("web", "nginx:1"),
		"apps/sub/secret.yaml": encryptedSecret,
		"apps/notes.txt":       "not a manifest",
	})
	s.commit("encrypted secret")
	var mu sync.Mutex
	var seen []string
	decrypt := func(file string, data []byte) ([]byte, error) {
		mu.Lock()
		seen = append(seen, file)
		mu.Unlock()
		return bytes.ReplaceAll(data, []byte(cipherMarker), []byte(plainMarker)), nil
	}
	state := t.TempDir()
	r, logs := newTestRepo(t, Options{URL: s.dir, Path: "apps", StateDir: state, Decrypt: decrypt})
	d := mustLoad(t, r)

	slices.Sort(seen)
	if want := []string{"deploy.yaml", "sub/secret.yaml"}; !slices.Equal(seen, want) {
		t.Errorf("Decrypt saw %v, want %v", seen, want)
	}
	var secret *corev1.Secret
	for _, o := range d.Objects {
		if sec, ok := o.Obj.(*corev1.Secret); ok {
			secret = sec
		}
	}
	if secret == nil || string(secret.Data["password"]) != plainMarker {
		t.Fatalf("the decrypted value did not reach the desired state: %+v", secret)
	}
	assertNotOnDisk(t, state, plainMarker)
	assertNotInObjects(t, r, plainMarker)
	if strings.Contains(logs.String(), plainMarker) {
		t.Errorf("the plaintext is in the log")
	}
}

// A Decrypt error refuses the commit, naming the file.
func TestDecryptErrorRefusesCommit(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:1"), "secret.yaml": encryptedSecret})
	s.commit("encrypted secret")
	noKey := errors.New("no age identity matches")
	decrypt := func(file string, data []byte) ([]byte, error) {
		if bytes.Contains(data, []byte("ENC[")) {
			return nil, noKey
		}
		return data, nil
	}
	r, _ := newTestRepo(t, Options{URL: s.dir, Decrypt: decrypt})
	err := loadErr(t, r, ErrInvalidCommit)
	if !errors.Is(err, noKey) || !strings.Contains(err.Error(), "secret.yaml") {
		t.Errorf("err = %v, want the decrypter's error naming secret.yaml", err)
	}
}

// assertNotOnDisk greps every file under dir for s.
func assertNotOnDisk(t *testing.T, dir, s string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s holds the plaintext", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("nothing under %s: the check proves nothing", dir)
	}
}

// assertNotInObjects reads every object of the clone (packs are
// compressed, so a grep of the files alone would miss them).
func assertNotInObjects(t *testing.T, r *Repo, s string) {
	t.Helper()
	iter, err := r.repo.Storer.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = iter.ForEach(func(o plumbing.EncodedObject) error {
		n++
		rd, err := o.Reader()
		if err != nil {
			return err
		}
		defer rd.Close()
		b, err := io.ReadAll(rd)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("object %s holds the plaintext", o.Hash())
		}
		if bytes.Contains(b, []byte(cipherMarker)) {
			n += 1000 // the ciphertext is there: the scan reads contents
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Fatalf("the object scan did not find the ciphertext: it proves nothing")
	}
}
