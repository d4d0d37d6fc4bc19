/**
 * Objects are plain JSON as clients send them. The sim never mutates a stored object in
 * place: a write replaces it, so an object handed to a watcher or a list stays as it was.
 */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: any;
  status?: any;
  [key: string]: any;
}

/** A stored object: name, namespace, uid and resourceVersion are always set. */
export type Stored = KObject & { metadata: ObjectMeta & { name: string; uid: string; resourceVersion: string } };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
