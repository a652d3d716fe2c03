package localapi

import "net/http"

// doctorRoutes serves GET /v1/doctor.
func (h *handler) doctorRoutes() {
	get(h.mux, "GET /v1/doctor", func(r *http.Request) (Doctor, error) { return h.b.Doctor(r.Context()) })
}
