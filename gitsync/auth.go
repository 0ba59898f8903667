package gitsync

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// sshDialTimeout bounds the TCP connection and SSH handshake: go-git's ssh
// transport does not take the fetch's context for them.
const sshDialTimeout = 30 * time.Second

// credentials are what New read for the transport: the auth method and the
// secret values to scrub from every message.
type credentials struct {
	auth    transport.AuthMethod
	secrets scrubber
}

// newCredentials reads the credentials the options name and checks that
// they fit the URL's transport.
func newCredentials(o Options, rem remote, log *slog.Logger) (credentials, error) {
	sshSet := o.SSHKeyFile != "" || o.KnownHostsFile != "" || o.InsecureIgnoreHostKey
	httpSet := o.HTTPUserFile != "" || o.HTTPTokenFile != "" || o.HTTPTokenEnv != ""
	switch {
	case rem.proto == "ssh":
		if httpSet {
			return credentials{}, fmt.Errorf("%w: HTTP credentials given for an ssh URL", ErrOptions)
		}
		return sshCredentials(o, rem, log)
	case rem.proto == "http" || rem.proto == "https":
		if sshSet {
			return credentials{}, fmt.Errorf("%w: SSH options given for an %s URL", ErrOptions, rem.proto)
		}
		c, err := httpCredentials(o)
		if err == nil && c.auth != nil && rem.proto == "http" {
			log.Warn("the HTTP token is sent without TLS; use https unless the server is local", "url", rem.display)
		}
		return c, err
	case sshSet || httpSet:
		return credentials{}, fmt.Errorf("%w: credentials given for a %s URL, which takes none", ErrOptions, rem.proto)
	}
	return credentials{}, nil
}

// httpCredentials reads HTTP basic authentication from files or the
// environment; none configured means anonymous access.
func httpCredentials(o Options) (credentials, error) {
	if o.HTTPTokenFile != "" && o.HTTPTokenEnv != "" {
		return credentials{}, fmt.Errorf("%w: set at most one of HTTPTokenFile and HTTPTokenEnv", ErrOptions)
	}
	var token string
	switch {
	case o.HTTPTokenFile != "":
		b, err := readSecretFile(o.HTTPTokenFile)
		if err != nil {
			return credentials{}, fmt.Errorf("%w: HTTP token: %w", ErrOptions, err)
		}
		token = string(b)
	case o.HTTPTokenEnv != "":
		token = strings.TrimRight(os.Getenv(o.HTTPTokenEnv), "\r\n")
		if token == "" {
			return credentials{}, fmt.Errorf("%w: HTTP token: environment variable %s is unset or empty", ErrOptions, o.HTTPTokenEnv)
		}
	case o.HTTPUserFile != "":
		return credentials{}, fmt.Errorf("%w: HTTPUserFile needs HTTPTokenFile or HTTPTokenEnv", ErrOptions)
	default:
		return credentials{}, nil
	}
	user := "git"
	if o.HTTPUserFile != "" {
		b, err := readSecretFile(o.HTTPUserFile)
		if err != nil {
			return credentials{}, fmt.Errorf("%w: HTTP user: %w", ErrOptions, err)
		}
		user = string(b)
	}
	return credentials{
		auth:    &githttp.BasicAuth{Username: user, Password: token},
		secrets: scrubber{token},
	}, nil
}

// sshCredentials reads the private key and the known hosts.
func sshCredentials(o Options, rem remote, log *slog.Logger) (credentials, error) {
	if o.SSHKeyFile == "" {
		return credentials{}, fmt.Errorf("%w: an ssh URL needs SSHKeyFile", ErrOptions)
	}
	if o.InsecureIgnoreHostKey && o.KnownHostsFile != "" {
		return credentials{}, fmt.Errorf("%w: set at most one of KnownHostsFile and InsecureIgnoreHostKey", ErrOptions)
	}
	keys, err := gitssh.NewPublicKeysFromFile(rem.user, o.SSHKeyFile, "")
	if err != nil {
		return credentials{}, fmt.Errorf("%w: SSH key %s: %w", ErrOptions, o.SSHKeyFile, err)
	}
	if o.InsecureIgnoreHostKey {
		log.Warn("ssh host key checking is off: any server can pose as the repository", "url", rem.display)
		keys.HostKeyCallback = ssh.InsecureIgnoreHostKey()
		return credentials{auth: sshAuth{keys}}, nil
	}
	var files []string
	if o.KnownHostsFile != "" {
		files = append(files, o.KnownHostsFile)
	}
	db, err := gitssh.NewKnownHostsDb(files...)
	if err != nil {
		return credentials{}, fmt.Errorf("%w: known hosts: %w", ErrOptions, err)
	}
	keys.HostKeyCallback = db.HostKeyCallback()
	if hostPort, err := sshHostPort(rem.url); err == nil {
		// Offer the server only the key types known_hosts can check.
		keys.HostKeyAlgorithms = db.HostKeyAlgorithms(hostPort)
	}
	return credentials{auth: sshAuth{keys}}, nil
}

// sshHostPort is the host:port of an ssh address, as known_hosts keys it.
func sshHostPort(url string) (string, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return "", err
	}
	port := ep.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(strings.Trim(ep.Host, "[]"), strconv.Itoa(port)), nil
}

// sshAuth is go-git's public-key authentication with a bound on dialling
// and the handshake.
type sshAuth struct{ *gitssh.PublicKeys }

// ClientConfig implements go-git's ssh.AuthMethod.
func (a sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.PublicKeys.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.Timeout = sshDialTimeout
	return cfg, nil
}
