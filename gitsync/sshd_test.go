package gitsync

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshServer is a real sshd on 127.0.0.1, started for one test, that lets
// root in with one key.
type sshServer struct {
	port       int
	userKey    string // private key file of the authorised user
	knownHosts string // known_hosts with the server's host key
	hostPub    ssh.PublicKey
}

// writeKey generates an ed25519 key, writes its OpenSSH private key to path
// and returns the public key.
func writeKey(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sshPub
}

// freePort asks the kernel for a port free on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startSSHD starts sshd -D -e with its own config, keys and pid file in a
// temp dir, waits until it accepts connections, and stops it on cleanup.
func startSSHD(t *testing.T) *sshServer {
	t.Helper()
	sshd := requireTool(t, "sshd")
	requireTool(t, "git-upload-pack") // sshd runs it for the fetch
	if os.Geteuid() != 0 {
		t.Fatalf("the ssh tests log in as root and must run as root: %s", setupHint)
	}
	// sshd refuses to start without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("create /run/sshd: %v (%s)", err, setupHint)
	}
	dir := t.TempDir()
	s := &sshServer{port: freePort(t), userKey: filepath.Join(dir, "id_ed25519")}
	hostKey := filepath.Join(dir, "host_ed25519")
	s.hostPub = writeKey(t, hostKey)
	userPub := writeKey(t, s.userKey)
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(userPub), 0o600); err != nil {
		t.Fatal(err)
	}
	s.knownHosts = filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.addr())}, s.hostPub) + "\n"
	if err := os.WriteFile(s.knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sshd_config")
	conf := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
AuthorizedKeysFile %s
PidFile %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel ERROR
`, s.port, hostKey, authorized, filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v (%s)", err, setupHint)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sshd stderr:\n%s", stderr.String())
		}
	})
	s.waitReady(t, exited)
	return s
}

// waitReady waits until sshd accepts TCP connections.
func (s *sshServer) waitReady(t *testing.T, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("sshd exited at start: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", s.addr(), 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sshd did not listen on %s within 10 s", s.addr())
}

func (s *sshServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// url is the ssh:// URL of a repository on the server.
func (s *sshServer) url(src *source) string {
	return fmt.Sprintf("ssh://root@%s%s", s.addr(), src.dir)
}
