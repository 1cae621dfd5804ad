// A Docker engine the tests talk to: the shared one (shared-engine.ts) or a private dockerd (dockerd.ts).
export type DockerEngine = {
  host: string; // DOCKER_HOST value, e.g. unix:///tmp/berth-n3-AbC123/docker.sock
  ip: string; // default bind IP for published ports
  private: boolean;
  stop(): Promise<void>;
};
