import type { GatewayMetrics } from '../metrics.js';
import type { GatewayModule } from '../runtime/router.js';

/** Prometheus exposition. Served on the metrics listener only (loopback by default), never on the public port. */
export function metricsModule(deps: { metrics: GatewayMetrics }): GatewayModule {
  const { registry } = deps.metrics;
  return {
    name: 'metrics',
    routes: [{
      method: 'GET',
      path: '/metrics',
      handle: async () => ({ status: 200, body: await registry.metrics(), headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' } }),
    }],
  };
}
