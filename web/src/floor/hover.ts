// Which machine the pointer is over, and where: kept outside React state so hovering never re-renders the scene.

export interface Hover {
  id: string;
  x: number;
  y: number;
}

let hover: Hover | null = null;
const listeners = new Set<() => void>();

export const hoverStore = {
  get: (): Hover | null => hover,
  set(next: Hover | null): void {
    if (next === hover || (next && hover && next.id === hover.id && next.x === hover.x && next.y === hover.y)) return;
    hover = next;
    listeners.forEach((l) => l());
  },
  subscribe(l: () => void): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};
