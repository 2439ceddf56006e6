/// <reference types="vite/client" />

declare module 'virtual:sotu' {
  const slice: import('../sotu').SotuSlice
  export default slice
}
