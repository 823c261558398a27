import type { Platform } from '../platform.js';
import type { DefaultTarget, EndpointRouter, ModelServer, RolloutController } from '../serving/index.js';
import type { HttpMetrics } from './metrics.js';
import type { DataPlane } from './data-plane.js';

/** What every route module receives from `buildApp`: the services, the model server and the metrics. */
export interface RouteDeps {
  platform: Platform;
  modelServer: ModelServer | undefined;
  /** Serves the store's endpoints (`/api/v1/endpoints/:name/predict`). */
  router: EndpointRouter;
  metrics: HttpMetrics;
  /** What `/api/predict`, `/api/model-info`, `/invocations` and `/ping` serve: `--endpoint`, else `--model`. */
  served: DefaultTarget;
  /** Mounts the prediction routes on Fastify and on the data plane in front of it. */
  plane: DataPlane;
  /** Drives rollouts; also gives their live gate values. */
  rolloutController: RolloutController;
}
