// The package ships no types; this is the part the benchmark uses.
declare module 'javascript-state-machine' {
  interface Options {
    init: string;
    transitions: ReadonlyArray<{ name: string; from: string | string[]; to: string }>;
  }
  const StateMachine: new (options: Options) => { ping(): void; pong(): void; state: string };
  export default StateMachine;
}
