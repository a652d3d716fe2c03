package localapi

import "net/http"

func (h *handler) poloRoutes() {
	b, mux := h.b, h.mux
	post(mux, "POST /v1/tasks", b.TaskSubmit)
	get(mux, "GET /v1/tasks", func(r *http.Request) (TaskList, error) { return b.TaskList(r.Context()) })
	get(mux, "GET /v1/tasks/{id}", func(r *http.Request) (TaskInfo, error) {
		return b.TaskGet(r.Context(), r.PathValue("id"))
	})
	post(mux, "POST /v1/tasks/action", b.TaskAction)
	get(mux, "GET /v1/polo", func(r *http.Request) (PoloInfo, error) { return b.Polo(r.Context(), "") })
	get(mux, "GET /v1/polo/{addr}", func(r *http.Request) (PoloInfo, error) {
		return b.Polo(r.Context(), r.PathValue("addr"))
	})
	get(mux, "GET /v1/polo-stats", func(r *http.Request) (PoloStats, error) { return b.PoloStats(r.Context()) })
}
