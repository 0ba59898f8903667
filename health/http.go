package health

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// userAgent is sent unless the probe sets its own; applications written for
// Kubernetes often recognise probes by the kubelet's prefix.
const userAgent = "kube-probe/1.34 (reconciler)"

// newHTTPClient returns the client every HTTP probe shares. As the
// kubelet's, its transport disables keep-alives (a probe every few seconds
// per container would otherwise pile up idle connections), skips TLS
// certificate verification (containers serve self-signed certificates on
// addresses no certificate names), ignores proxy settings and does not ask
// for compression. It never follows redirects: a 3xx answer is the result.
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:       nil,
			DialContext: (&net.Dialer{}).DialContext,
			// Probes check health, not identity, as the kubelet's do.
			TLSClientConfig:    &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives:  true,
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// httpGet sends the probe's GET to addr, bounded by ctx: a status from 200
// to 399 passes, anything else or a transport error fails.
func (pr *prober) httpGet(ctx context.Context, addr string, a *corev1.HTTPGetAction) outcome {
	u, err := probeURL(a.Scheme, addr, a.Path)
	if err != nil {
		return outcome{failed, err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return outcome{failed, err.Error()}
	}
	req.Header = probeHeader(a.HTTPHeaders)
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
	}
	resp, err := pr.client.Do(req)
	if err != nil {
		return outcome{failed, err.Error()}
	}
	_ = resp.Body.Close() // the status is the answer; the connection is not reused
	if resp.StatusCode >= http.StatusOK && resp.StatusCode < http.StatusBadRequest {
		return outcome{verdict: passed}
	}
	return outcome{failed, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)}
}

// probeURL builds the URL of a probe: the scheme (HTTP by default), the
// published address, and the path with any query it carries.
func probeURL(scheme corev1.URIScheme, addr, path string) (string, error) {
	s := strings.ToLower(string(scheme))
	switch s {
	case "":
		s = "http"
	case "http", "https":
	default:
		return "", fmt.Errorf("unsupported scheme %q", scheme)
	}
	u, err := url.Parse(path)
	if err != nil {
		u = &url.URL{Path: path}
	}
	u.Scheme, u.Host, u.User = s, addr, nil
	return u.String(), nil
}

// probeHeader returns the probe's headers, with the kubelet's default
// User-Agent and Accept unless the probe sets them.
func probeHeader(hs []corev1.HTTPHeader) http.Header {
	h := make(http.Header, len(hs)+2)
	for _, x := range hs {
		h.Add(x.Name, x.Value)
	}
	if _, ok := h["User-Agent"]; !ok {
		h.Set("User-Agent", userAgent)
	}
	if _, ok := h["Accept"]; !ok {
		h.Set("Accept", "*/*")
	}
	return h
}
