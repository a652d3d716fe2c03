package localapi

import (
	"context"
	"net/http"
	"strconv"
)

// post registers a JSON-in, JSON-out endpoint.
func post[Req, Resp any](mux *http.ServeMux, pattern string, f func(context.Context, Req) (Resp, error)) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if !decode(w, r, &req) {
			return
		}
		v, err := f(r.Context(), req)
		respond(w, v, err)
	})
}

// get registers an endpoint whose arguments come from the URL.
func get[Resp any](mux *http.ServeMux, pattern string, f func(*http.Request) (Resp, error)) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		respond(w, v, err)
	})
}

// dialRequest opens a raw stream to a port (`pilot connect`).
type dialRequest struct {
	Address string `json:"address"`
	Port    uint16 `json:"port"`
}

// acceptRequest waits for one stream on a port (`pilot listen`).
type acceptRequest struct {
	Port uint16 `json:"port"`
}

func (h *handler) sessionRoutes() {
	b, mux := h.b, h.mux
	post(mux, "POST /v1/echo", b.Echo)
	post(mux, "POST /v1/send", b.Send)
	get(mux, "GET /v1/inbox", func(r *http.Request) (InboxList, error) { return b.Inbox(r.Context()) })
	get(mux, "GET /v1/inbox/{id}", func(r *http.Request) (InboxMessage, error) {
		return b.InboxGet(r.Context(), r.PathValue("id"))
	})
	get(mux, "DELETE /v1/inbox/{id}", func(r *http.Request) (Deleted, error) {
		return b.InboxDelete(r.Context(), r.PathValue("id"))
	})
	post(mux, "POST /v1/publish", b.Publish)
	post(mux, "POST /v1/trust", b.Trust)
	get(mux, "GET /v1/trust", func(r *http.Request) (TrustList, error) {
		return b.TrustList(r.Context(), r.URL.Query().Get("pending") == "1")
	})
	post(mux, "POST /v1/ports", b.SetPortPolicy)
	get(mux, "GET /v1/ports", func(r *http.Request) (PortList, error) { return b.Ports(r.Context()) })
	post(mux, "POST /v1/tunnels/expose", b.Expose)
	post(mux, "POST /v1/tunnels/forward", b.Forward)
	get(mux, "GET /v1/tunnels", func(r *http.Request) (TunnelList, error) { return b.Tunnels(r.Context()) })
	get(mux, "DELETE /v1/tunnels/{id}", func(r *http.Request) (Tunnel, error) {
		return b.CloseTunnel(r.Context(), r.PathValue("id"))
	})
	post(mux, "POST /v1/profile", b.SetProfile)
	post(mux, "POST /v1/find", b.Find)

	mux.HandleFunc("GET /v1/subscribe/{topic}", func(w http.ResponseWriter, r *http.Request) {
		count, err := strconv.Atoi(r.URL.Query().Get("count"))
		if err != nil || count < 0 {
			count = 0
		}
		s := &ndjsonWriter{w: w}
		s.finish(b.Subscribe(r.Context(), r.PathValue("topic"), count, func(e TopicEvent) error { return s.emit(e) }))
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		s := &ndjsonWriter{w: w}
		s.finish(b.Events(r.Context(), func(e LocalEvent) error { return s.emit(e) }))
	})
	mux.HandleFunc("POST /v1/connect", func(w http.ResponseWriter, r *http.Request) {
		var req dialRequest
		if !decode(w, r, &req) {
			return
		}
		c, err := b.DialPort(r.Context(), req.Address, req.Port)
		if err != nil {
			writeError(w, AsError(err))
			return
		}
		h.sp.upgrade(w, c)
	})
	mux.HandleFunc("POST /v1/listen", func(w http.ResponseWriter, r *http.Request) {
		var req acceptRequest
		if !decode(w, r, &req) {
			return
		}
		c, err := b.AcceptPort(r.Context(), req.Port)
		if err != nil {
			writeError(w, AsError(err))
			return
		}
		h.sp.upgrade(w, c)
	})
	h.listenRoutes()
}
